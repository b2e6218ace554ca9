package io.foley4j.server;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyListener;
import io.foley4j.FoleyModels;
import io.foley4j.FoleyRequest;

/**
 * What the service runs jobs on: one engine ({@code foley serve --bundle}), or several models by
 * name ({@code --model NAME=PATH}, a {@link FoleyModels}). A job names its model or takes the default.
 */
interface Engines extends AutoCloseable {
  /** Submits to the named model (null: the default). */
  FoleyJob submit(String model, FoleyRequest request, FoleyListener listener);

  /** The model name a job of this request runs on: the named one if it exists (else 400), or null for the default. */
  String resolve(String model);

  /** The models, for {@code GET /v1/models}. */
  JsonArray describe();

  @Override
  void close();

  /** One engine: its bundle's name is its model name. */
  static Engines of(FoleyEngine engine) {
    return new Engines() {
      @Override
      public FoleyJob submit(String model, FoleyRequest request, FoleyListener listener) {
        return engine.submit(request, listener);
      }

      @Override
      public String resolve(String model) {
        if (model == null || model.isEmpty() || model.equals(engine.manifest().name())) {
          return null;
        }
        throw new HttpError(400, "INVALID_ARGUMENT", "no model named '" + model + "': this node serves "
            + engine.manifest().name() + " only (leave the model field out)", 0);
      }

      @Override
      public JsonArray describe() {
        JsonObject o = new JsonObject();
        o.addProperty("name", engine.manifest().name());
        o.addProperty("default", true);
        o.addProperty("state", "READY");
        o.addProperty("jobsInFlight", engine.stats().runningJobs() + engine.stats().queuedJobs());
        JsonArray a = new JsonArray();
        a.add(o);
        return a;
      }

      @Override
      public void close() {
        engine.close();
      }
    };
  }

  /** Several models. */
  static Engines of(FoleyModels models) {
    return new Engines() {
      @Override
      public FoleyJob submit(String model, FoleyRequest request, FoleyListener listener) {
        return model == null ? models.submit(request, listener) : models.submit(model, request, listener);
      }

      @Override
      public String resolve(String model) {
        if (model == null || model.isEmpty()) {
          return models.defaultModel();
        }
        if (!models.names().contains(model)) {
          throw new HttpError(400, "INVALID_ARGUMENT", "no model named '" + model + "': this node serves "
              + String.join(", ", models.names()) + " (GET /v1/models)", 0);
        }
        return model;
      }

      @Override
      public JsonArray describe() {
        JsonArray a = new JsonArray();
        for (FoleyModels.ModelInfo m : models.models()) {
          JsonObject o = new JsonObject();
          o.addProperty("name", m.name());
          o.addProperty("default", m.name().equals(models.defaultModel()));
          o.addProperty("state", m.state().name());
          o.addProperty("bytes", m.bytes());
          o.addProperty("jobsInFlight", m.jobsInFlight());
          o.addProperty("loads", m.loads());
          o.addProperty("unloads", m.unloads());
          o.addProperty("failedLoads", m.failedLoads());
          if (m.lastError() != null) {
            o.addProperty("lastError", m.lastError());
          }
          a.add(o);
        }
        return a;
      }

      @Override
      public void close() {
        models.close();
      }
    };
  }
}
