package io.foley4j.pipeline;

/** Encoder outputs of one segment: visual [frames × Dv] and sync [tokens × Ds], row-major. */
record SegmentFeatures(int index, float[] visual, float[] sync) {}
