package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.foley4j.FoleyModels;
import io.foley4j.TestSupport;
import io.foley4j.jcodec.JcodecVideoSources;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.video.SyntheticVideo;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code foley serve} on several models: the model field, {@code GET /v1/models}, the LRU, per-model metrics. */
class ServiceModelsTest {
  private static final long MODEL = 100;
  @TempDir Path dir;

  private FoleyModels.Builder models(String... names) {
    FoleyModels.Builder b = FoleyModels.builder();
    for (String n : names) {
      b.model(n, TestSupport::smallReferenceBundle, e -> e.maxConcurrentRequests(2), MODEL);
    }
    return b;
  }

  private static Map<String, JsonObject> listed(Http h) throws Exception {
    HttpResponse<String> r = h.get("/v1/models");
    assertEquals(200, r.statusCode(), r.body());
    Map<String, JsonObject> out = new HashMap<>();
    JsonArray a = Http.json(r).getAsJsonArray("models");
    for (int i = 0; i < a.size(); i++) {
      JsonObject o = a.get(i).getAsJsonObject();
      out.put(o.get("name").getAsString(), o);
    }
    return out;
  }

  private String run(Http h, Http.Form form) throws Exception {
    HttpResponse<String> r = h.post(form);
    assertEquals(202, r.statusCode(), r.body());
    String id = Http.json(r).get("id").getAsString();
    assertEquals("done", h.awaitFinished(id).get("status").getAsString());
    return id;
  }

  @Test
  void jobsNameTheirModelWhichLoadsOnFirstUseAndTheLeastRecentlyUsedIdleOneMakesRoom() throws Exception {
    Path video = dir.resolve("clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1.5).flash(0.5, 0.1, 0xFFFFFF).build(), video);
    try (FoleyService s = FoleyService.start(ServiceConfig.defaults(dir.resolve("svc")),
        models("a", "b", "c").defaultModel("b").memoryBudgetBytes(2 * MODEL + MODEL / 2), JcodecVideoSources.jcodec())) {
      Http h = new Http(s.uri());
      assertNull(s.engine());
      Map<String, JsonObject> m = listed(h);
      assertEquals("READY", m.get("b").get("state").getAsString(), "the default model loads before ready");
      assertTrue(m.get("b").get("default").getAsBoolean());
      assertEquals("UNLOADED", m.get("a").get("state").getAsString());
      JsonObject info = Http.json(h.get("/v1/info"));
      assertEquals("b", info.get("bundle").getAsString(), "the default model: " + info);
      assertEquals("[\"a\",\"b\",\"c\"]", info.get("models").toString(), "the models a job may name: " + info);
      assertTrue(info.get("steps").isJsonNull() && info.get("cfg").isJsonNull(), "each model's own defaults: " + info);

      run(h, new Http.Form().video(video).field("prompt", "rain").field("steps", "2")); // the default: b
      run(h, new Http.Form().video(video).field("prompt", "rain").field("steps", "2").field("model", "a"));
      // the same request on another model is another job, not the earlier one's result
      HttpResponse<String> onC = h.post(new Http.Form().video(video).field("prompt", "rain").field("steps", "2")
          .field("model", "c"));
      assertEquals(202, onC.statusCode(), onC.body());
      assertEquals("done", h.awaitFinished(Http.json(onC).get("id").getAsString()).get("status").getAsString());
      m = listed(h);
      assertEquals("UNLOADED", m.get("b").get("state").getAsString(), "b was the least recently used");
      assertEquals(1, m.get("b").get("unloads").getAsInt());
      assertEquals("READY", m.get("a").get("state").getAsString());
      assertEquals("READY", m.get("c").get("state").getAsString());
      assertEquals(0, m.get("c").get("jobsInFlight").getAsInt());

      HttpResponse<String> unknown = h.post(new Http.Form().video(video).field("prompt", "rain").field("model", "z"));
      assertEquals(400, unknown.statusCode(), unknown.body());
      assertTrue(unknown.body().contains("no model named 'z'") && unknown.body().contains("a, b, c"), unknown.body());

      String metrics = h.get("/metrics").body();
      assertTrue(metrics.contains("foley_model_loaded{model=\"a\"} 1.0"), metrics);
      assertTrue(metrics.contains("foley_model_loaded{model=\"b\"} 0.0"), metrics);
      assertTrue(metrics.contains("foley_model_unloads_total{model=\"b\"} 1.0"), metrics);
      assertTrue(metrics.contains("foley_models_bytes_in_use " + (double) (2 * MODEL)), metrics);
    }
  }

  @Test
  void aNodeOfOneEngineListsItAndRefusesOtherNames() throws Exception {
    Path video = dir.resolve("clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1.5).build(), video);
    try (io.foley4j.bundle.ModelBundle bundle = TestSupport.smallReferenceBundle();
        FoleyService s = FoleyService.start(ServiceConfig.defaults(dir.resolve("one")),
            io.foley4j.FoleyEngine.builder().bundle(bundle), JcodecVideoSources.jcodec())) {
      Http h = new Http(s.uri());
      Map<String, JsonObject> m = listed(h);
      String name = bundle.manifest().name();
      assertEquals(1, m.size());
      assertTrue(m.get(name).get("default").getAsBoolean());
      run(h, new Http.Form().video(video).field("prompt", "rain").field("steps", "2").field("model", name));
      HttpResponse<String> other = h.post(new Http.Form().video(video).field("model", "other"));
      assertEquals(400, other.statusCode(), other.body());
      assertTrue(other.body().contains("serves " + name + " only"), other.body());
    }
  }
}
