/**
 * The backend SPI ({@link io.foley4j.backend.Backend}, {@link io.foley4j.backend.StageSession},
 * {@link io.foley4j.backend.Tensor}) and the CPU backend on ONNX Runtime. GPU backends live in
 * foley-gpu-cuda. {@link io.foley4j.backend.OrtStageSession} is public only so that those backends
 * can reuse it; applications use {@link io.foley4j.backend.Backends}.
 */
package io.foley4j.backend;
