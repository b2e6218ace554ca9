/* Stand-ins for libnvidia-ml, libcuda and libnvinfer with the signatures GpuProbe calls, so that
   the probe's parsing is tested on machines without a GPU. FAKE_BROKEN selects a driver that
   answers NVML but whose cuInit finds no device and whose utilization query is not supported. */
#include <string.h>

typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;

int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
const char *nvmlErrorString(int rc) { return rc == 3 ? "Not Supported" : "Unknown Error"; }
int nvmlSystemGetDriverVersion(char *v, unsigned int n) { strncpy(v, "550.54.15", n); return 0; }
int nvmlSystemGetCudaDriverVersion_v2(int *v) { *v = 12040; return 0; }
int nvmlDeviceGetCount_v2(unsigned int *n) { *n = 2; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **h) { *h = (void *) (long) (0x1000 + i); return 0; }
int nvmlDeviceGetName(void *h, char *v, unsigned int n) {
  strncpy(v, (long) h == 0x1000 ? "NVIDIA A10G" : "NVIDIA A100-SXM4-80GB", n); return 0; }
int nvmlDeviceGetUUID(void *h, char *v, unsigned int n) {
  strncpy(v, (long) h == 0x1000 ? "GPU-00000000-1111-2222-3333-444444444444" : "GPU-55555555-6666-7777-8888-999999999999", n);
  return 0; }
int nvmlDeviceGetMemoryInfo(void *h, nvmlMemory_t *m) {
  m->total = (long) h == 0x1000 ? 24ULL << 30 : 80ULL << 30; m->free = 20ULL << 30; m->used = m->total - m->free; return 0; }
int nvmlDeviceGetUtilizationRates(void *h, nvmlUtilization_t *u) {
#ifdef FAKE_BROKEN
  return 3;
#else
  u->gpu = (long) h == 0x1000 ? 37 : 90; u->memory = 12; return 0;
#endif
}
int nvmlDeviceGetCudaComputeCapability(void *h, int *major, int *minor) {
  *major = 8; *minor = (long) h == 0x1000 ? 6 : 0; return 0; }

int cuDriverGetVersion(int *v) { *v = 12040; return 0; }
int cuInit(unsigned int flags) {
#ifdef FAKE_BROKEN
  return 100;
#else
  return flags == 0 ? 0 : 1;
#endif
}
int cuGetErrorName(int rc, const char **s) { *s = rc == 100 ? "CUDA_ERROR_NO_DEVICE" : "CUDA_ERROR_UNKNOWN"; return 0; }
int cuDeviceGetCount(int *n) { *n = 2; return 0; }

int getInferLibVersion(void) { return 100600; }
