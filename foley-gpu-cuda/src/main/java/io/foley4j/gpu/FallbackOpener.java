package io.foley4j.gpu;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.foley4j.FoleyException;
import io.foley4j.InvalidBundleException;
import io.foley4j.backend.CpuBackend;
import io.foley4j.backend.OrtSessions;
import io.foley4j.backend.StageSession;
import io.foley4j.bundle.StageSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * What the GPU backends share: check the environment once (probe before adding a provider: a
 * provider that fails to load its libraries has crashed JVMs elsewhere), open through
 * {@link OrtSessions}, explain ONNX Runtime's errors, and apply the fallback policy with exactly
 * one warning per backend; also the backend's name and how provider options are handed over.
 */
final class FallbackOpener {
  /** Adds the execution providers to a session's options; may throw OrtException. */
  interface Providers {
    void add(OrtSession.SessionOptions so, List<AutoCloseable> toClose) throws OrtException;
  }

  /** Sets one option of a provider's options ({@code add} of the CUDA and TensorRT options classes). */
  interface ProviderOption {
    void add(String key, String value) throws OrtException;
  }

  static final System.Logger LOG = System.getLogger("io.foley4j.gpu");

  private final String label;
  private final int device;
  private final boolean tensorRt;
  private final Fallback fallback;
  private final CpuBackend cpu;
  private final Supplier<List<String>> environment;
  private final AtomicBoolean warned = new AtomicBoolean();
  private final AtomicBoolean fellBack = new AtomicBoolean();
  private List<String> problems; // guarded by this

  FallbackOpener(String label, int device, boolean tensorRt, Fallback fallback, CpuBackend cpu,
      Supplier<List<String>> environment) {
    this.label = label;
    this.device = device;
    this.tensorRt = tensorRt;
    this.fallback = fallback;
    this.cpu = cpu;
    this.environment = environment;
  }

  private synchronized List<String> problems() {
    if (problems == null) {
      problems = List.copyOf(environment.get());
    }
    return problems;
  }

  boolean fellBack() {
    return fellBack.get();
  }

  /**
   * The backend's name: the label in lower case and the device ({@code "cuda:0"}), or
   * {@code "cpu (fallback from cuda:0)"} once a stage fell back to the CPU.
   */
  String backendName() {
    String gpu = label.toLowerCase(Locale.ROOT) + ":" + device;
    return fellBack() ? "cpu (fallback from " + gpu + ")" : gpu;
  }

  /**
   * Hands every provider option but {@code device_id} (which the options' constructor takes) to
   * {@code o}, in the map's order.
   */
  static void addOptions(Map<String, String> options, ProviderOption o) throws OrtException {
    for (Map.Entry<String, String> e : options.entrySet()) {
      if (!e.getKey().equals("device_id")) {
        o.add(e.getKey(), e.getValue());
      }
    }
  }

  StageSession open(StageSpec spec, Path modelFile, Providers providers) {
    List<String> found = problems();
    if (!found.isEmpty()) {
      return fallBack(spec, modelFile, new GpuUnavailableException(GpuEnvironment.message(label, device, found, tensorRt)));
    }
    List<AutoCloseable> toClose = new java.util.ArrayList<>();
    try {
      return OrtSessions.open(spec, modelFile, cpu, so -> {
        try {
          providers.add(so, toClose);
        } catch (OrtException e) {
          throw GpuEnvironment.fromOrt(label, device, e, tensorRt);
        }
      });
    } catch (GpuUnavailableException e) {
      return fallBack(spec, modelFile, e);
    } catch (InvalidBundleException e) {
      throw e; // a broken model is broken on every device
    } catch (FoleyException e) {
      if (e.code() == FoleyException.Code.BACKEND_FAILURE && e.getCause() instanceof OrtException ort) {
        return fallBack(spec, modelFile, GpuEnvironment.fromOrt(label, device, ort, tensorRt));
      }
      throw e;
    } finally {
      for (AutoCloseable c : toClose) {
        try {
          c.close();
        } catch (Exception e) {
          LOG.log(System.Logger.Level.WARNING, "closing ONNX Runtime provider options failed: " + e);
        }
      }
    }
  }

  private StageSession fallBack(StageSpec spec, Path modelFile, GpuUnavailableException why) {
    if (fallback == Fallback.FAIL) {
      throw why;
    }
    fellBack.set(true);
    if (warned.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.WARNING, "running on the CPU instead of " + label + ":" + device + " (fallback CPU): "
          + why.getMessage());
    }
    return cpu.open(spec, modelFile);
  }
}
