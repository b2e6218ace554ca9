package io.foley4j.server;

import io.foley4j.FoleyModels;
import io.foley4j.FoleyModels.ModelInfo;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.ToDoubleFunction;

/**
 * Per-model meters of a node serving several models, tagged {@code model}: whether it is loaded,
 * its size in the budget, its jobs in flight, its loads, unloads and failed loads; and the budget in
 * use. Read from {@link FoleyModels#models()} at scrape time.
 */
final class ModelMetrics {
  private ModelMetrics() {}

  static void bind(FoleyModels models, MeterRegistry registry) {
    for (String name : models.names()) {
      gauge(models, registry, name, "foley.model.loaded", "1 while the model is loaded and takes jobs",
          m -> m.state() == FoleyModels.State.READY ? 1 : 0);
      gauge(models, registry, name, "foley.model.bytes", "the model's size in the memory budget", ModelInfo::bytes);
      gauge(models, registry, name, "foley.model.jobs.in.flight", "jobs submitted to the model and not finished",
          ModelInfo::jobsInFlight);
      counter(models, registry, name, "foley.model.loads", "loads started", ModelInfo::loads);
      counter(models, registry, name, "foley.model.unloads", "unloads to make room for another model",
          ModelInfo::unloads);
      counter(models, registry, name, "foley.model.failed.loads", "loads that failed", ModelInfo::failedLoads);
    }
    Gauge.builder("foley.models.bytes.in.use", models, FoleyModels::bytesInUse)
        .description("bytes of the memory budget that loaded, loading and closing models take").register(registry);
  }

  private static ModelInfo info(FoleyModels models, String name) {
    for (ModelInfo m : models.models()) {
      if (m.name().equals(name)) {
        return m;
      }
    }
    throw new IllegalStateException("no model " + name);
  }

  private static void gauge(FoleyModels models, MeterRegistry registry, String name, String meter, String what,
      ToDoubleFunction<ModelInfo> f) {
    Gauge.builder(meter, models, ms -> f.applyAsDouble(info(ms, name))).tag("model", name).description(what)
        .register(registry);
  }

  private static void counter(FoleyModels models, MeterRegistry registry, String name, String meter, String what,
      ToDoubleFunction<ModelInfo> f) {
    FunctionCounter.builder(meter, models, ms -> f.applyAsDouble(info(ms, name))).tag("model", name)
        .description(what).register(registry);
  }
}
