/**
 * The backend SPI ({@link io.foley4j.backend.Backend}, {@link io.foley4j.backend.StageSession},
 * {@link io.foley4j.backend.Tensor}) and the CPU backend on ONNX Runtime. GPU backends live in
 * foley-gpu-cuda. Applications pick a backend through {@link io.foley4j.backend.Backends} or a
 * backend's builder; the ONNX Runtime session behind them is not part of the API, except through
 * {@link io.foley4j.backend.OrtSessions}, the one hook by which a backend in another module opens
 * stages with the CPU backend's checks and buffer reuse and its own execution providers.
 */
package io.foley4j.backend;
