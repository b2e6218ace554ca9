/**
 * GPU backends for foley4j on ONNX Runtime: {@link io.foley4j.gpu.CudaBackend} (the CUDA execution
 * provider) and {@link io.foley4j.gpu.TensorRtBackend} (TensorRT with CUDA for the nodes it does not
 * take), and {@link io.foley4j.gpu.GpuProbe}, which asks the NVIDIA driver (NVML, libcuda) and
 * TensorRT (libnvinfer) what is there through JNA and reports every part it could not find as a
 * {@link io.foley4j.gpu.ProbeStatus}; {@link io.foley4j.gpu.CudaRedist} loads CUDA, cuDNN and
 * TensorRT from the bytedeco redist jars on a machine without a system CUDA. Nothing here loads a native library until a probe runs or a
 * GPU backend opens a stage. See docs/gpu.md.
 */
package io.foley4j.gpu;
