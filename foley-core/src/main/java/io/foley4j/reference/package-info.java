/**
 * The built-in procedural reference model. {@link io.foley4j.reference.ReferenceModel} writes a
 * small model bundle with the exact stage contract of a HunyuanVideo-Foley export, built from real
 * ONNX operators by a hand-written protobuf encoder, so the whole SDK runs and is tested without
 * gigabytes of weights.
 */
package io.foley4j.reference;
