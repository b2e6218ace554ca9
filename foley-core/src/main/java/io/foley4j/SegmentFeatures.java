package io.foley4j;

/** Encoder outputs of one segment: visual [frames × Dv] and sync [tokens × Ds], row-major. */
record SegmentFeatures(int index, float[] visual, float[] sync) {}
