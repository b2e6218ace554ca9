package io.foley4j.server;

import io.foley4j.jcodec.JcodecVideoSources;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.FoleyEngine;
import io.foley4j.TestSupport;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoSources;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The web page in a real browser: upload, live progress, then the video plays with its new sound. */
class WebPageTest {
  @TempDir Path dir;

  @Test
  void uploadWatchAndPlay() throws Exception {
    Chromium.executable(); // skip (or fail when required) before starting anything
    Path video = dir.resolve("clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(2).flash(0.5, 0.1, 0xFFFFFF).movingSquare(1.0, 1.8, 0xFF0000).build(), video);
    try (ModelBundle bundle = TestSupport.referenceBundle();
         FoleyService service = FoleyService.start(ServiceConfig.defaults(dir.resolve("data")),
             FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()), JcodecVideoSources.jcodec());
         Chromium browser = new Chromium(service.uri().resolve("/"), dir.resolve("profile"))) {
      waitFor(browser, "document.readyState === 'complete' && !!document.getElementById('video')");
      JsonObject doc = browser.call("DOM.getDocument", null);
      JsonObject q = new JsonObject();
      q.addProperty("nodeId", doc.getAsJsonObject("root").get("nodeId").getAsInt());
      q.addProperty("selector", "#video");
      int input = browser.call("DOM.querySelector", q).get("nodeId").getAsInt();
      JsonObject files = new JsonObject();
      files.addProperty("nodeId", input);
      com.google.gson.JsonArray list = new com.google.gson.JsonArray();
      list.add(video.toAbsolutePath().toString());
      files.add("files", list);
      browser.call("DOM.setFileInputFiles", files);
      browser.eval("document.getElementById('prompt').value = 'a door slams';"
          + "document.getElementById('steps').value = '3';"
          + "document.getElementById('submit').click(); 'ok'");
      waitFor(browser, "document.body.dataset.state === 'done' || document.body.dataset.state === 'failed'");
      assertEquals("done", browser.eval("document.body.dataset.state"),
          browser.eval("document.getElementById('error').textContent"));
      assertTrue(browser.eval("document.getElementById('log').textContent").contains("chunk 0: samples 0 +"),
          "chunks were shown live from the SSE stream");
      String media = browser.eval("new Promise((ok) => {"
          + " const v = document.getElementById('result');"
          + " const report = () => ok(JSON.stringify({duration: v.duration, audioTracks: v.audioTracks ? v.audioTracks.length : -1,"
          + "   error: v.error ? v.error.code + ' ' + v.error.message : null, decoded: v.webkitAudioDecodedByteCount}));"
          + " const played = () => { v.muted = true; v.play().then(() => setTimeout(report, 700), report); };"
          + " if (v.readyState >= 1) played(); else { v.addEventListener('loadedmetadata', played); v.addEventListener('error', report); }"
          + "})");
      JsonObject m = JsonParser.parseString(media).getAsJsonObject();
      assertTrue(m.get("error").isJsonNull(), "the video plays: " + media);
      assertEquals(2.0, m.get("duration").getAsDouble(), 0.05, media);
      assertTrue(m.get("audioTracks").getAsInt() >= 1, "an audio track: " + media);
      assertTrue(m.get("decoded").getAsLong() > 0, "its audio is decoded while playing: " + media);
      String wav = browser.eval("document.getElementById('wav').href");
      assertTrue(wav.endsWith("/audio"), wav);
      String size = browser.eval("fetch(document.getElementById('wav').href).then(r => r.arrayBuffer())"
          + ".then(b => String(b.byteLength))");
      assertEquals(44 + 2 * 96_000, Long.parseLong(size), "the WAV download is 2 s of 16-bit 48 kHz audio");
    }
  }

  private static void waitFor(Chromium browser, String condition) throws Exception {
    long deadline = System.nanoTime() + Chromium.timeout().toNanos();
    while (System.nanoTime() < deadline) {
      if ("true".equals(browser.eval("String(" + condition + ")"))) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("not reached in the browser: " + condition);
  }
}
