package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyModels;
import io.foley4j.TestSupport;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.ffmpeg.FfmpegVideoSources;
import io.foley4j.jcodec.JcodecVideoSources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web page in a real browser (headless chromium over the DevTools protocol): the model's
 * defaults, the example clip and prompt gallery, two variants side by side with live progress, each
 * a playable video with a waveform, a player and four downloads; the errors a visitor can meet; the
 * layout at phone width. With {@code FOLEY_SCREENSHOTS=dir} it saves a screenshot of each state there
 * (docs/screenshots holds the committed ones).
 */
class WebPageTest {
  private static final int DESKTOP_WIDTH = 1280;
  private static final int DESKTOP_HEIGHT = 1440; // the whole form in one screenshot
  private static final int PHONE_WIDTH = 375;
  @TempDir Path dir;

  @Test
  void onFfmpegTheExampleClipWithTwoVariantsGivesTwoPlayableVideosWithWaveformsAndDownloads() throws Exception {
    Chromium.executable(); // skip (or fail when required) before starting anything
    try (ModelBundle bundle = TestSupport.referenceBundle();
         // one job at a time and a queue of one, so that two jobs from elsewhere make the page's next one 503
         FoleyService service = FoleyService.start(ServiceConfig.defaults(dir.resolve("data")), FoleyEngine.builder()
             .bundle(bundle).backend(Backends.cpu()).maxConcurrentRequests(1).maxQueuedRequests(1),
             FfmpegVideoSources.ffmpeg());
         Chromium browser = new Chromium(service.uri().resolve("/"), dir.resolve("profile"))) {
      viewport(browser, DESKTOP_WIDTH, DESKTOP_HEIGHT, false);
      waitFor(browser, "document.body.dataset.info === 'loaded'");
      BundleManifest.SamplerSpec sampler = bundle.manifest().sampler();
      assertEquals(sampler.cfgScale(), Float.parseFloat(value(browser, "cfg")), "guidance shows the model's default");
      assertEquals(sampler.steps(), Integer.parseInt(value(browser, "steps")), "steps show the model's default");
      assertEquals(value(browser, "cfg"), value(browser, "cfg-range"), "the slider shows the same value");
      assertTrue(text(browser, "model").contains(bundle.manifest().name()), text(browser, "model"));
      assertTrue(browser.eval("document.getElementById('negative_prompt').placeholder")
          .contains(sampler.negativePrompt()), "the default negative prompt is shown");
      String hint = text(browser, "video-hint");
      assertTrue(hint.startsWith("Any format FFmpeg reads, up to 500 MB and 10 min") && !hint.contains("H.264"),
          "a service on FFmpeg names no codec: " + hint);
      browser.eval("window.violations = []; document.addEventListener('securitypolicyviolation',"
          + " (e) => violations.push(e.violatedDirective + ' ' + e.blockedURI)); 'ok'");

      // the gallery's first example fills the form and, with no video chosen, takes the example clip
      browser.eval("document.querySelector('#examples button').click(); 'ok'");
      waitFor(browser, "document.getElementById('video').files.length === 1"
          + " && document.getElementById('preview').readyState >= 1");
      assertEquals(browser.eval("document.querySelector('#examples button').dataset.prompt"), value(browser, "prompt"));
      assertEquals("foley-example.mp4", browser.eval("document.getElementById('video').files[0].name"));
      assertEquals(2.0, Double.parseDouble(browser.eval("String(document.getElementById('preview').duration)")), 0.05);
      phoneWidthFits(browser, "form-phone", "form");
      screenshot(browser, "form");

      // the page's own progress is watched; its result is held back until the progress has been looked at
      browser.eval("window.heldDone = null; window.showDone = showResults;"
          + " showResults = (job) => { window.heldDone = job; document.body.dataset.held = 'yes'; }; 'ok'");
      set(browser, "steps", "3");
      set(browser, "variants", "2");
      assertEquals("2", value(browser, "variants-range"), "the variants slider follows its field");
      browser.eval("document.getElementById('submit').click(); 'ok'");
      waitFor(browser, "document.body.dataset.held === 'yes' || document.body.dataset.state === 'failed'");
      assertEquals("running", browser.eval("document.body.dataset.state"), text(browser, "error"));
      assertEquals("1", browser.eval("String(document.getElementById('upload').value)"), "the upload bar is full");
      String log = text(browser, "log");
      for (int v = 0; v < 2; v++) {
        assertTrue(log.contains("variant " + (v + 1) + ", chunk 0: samples 0 +"), "each variant's chunks live: " + log);
        assertTrue(Integer.parseInt(browser.eval("document.querySelector('.variant[data-variant=\"" + v
            + "\"]').dataset.chunks || '0'")) >= 1, "variant " + v + " counted its chunks before the job was done");
        assertEquals("1", browser.eval("String(document.querySelectorAll('.variant progress')[" + v + "].value)"),
            "variant " + v + "'s bar is full once its last chunk came");
      }
      assertTrue(text(browser, "status").startsWith("running: step "), text(browser, "status"));
      assertTrue(Double.parseDouble(browser.eval("String(document.getElementById('progress').value)")) > 0);

      browser.eval("showResults = window.showDone; showResults(window.heldDone); 'ok'");
      waitFor(browser, "document.body.dataset.waveforms !== undefined");
      assertEquals("drawn", browser.eval("document.body.dataset.waveforms"));
      assertEquals("done", browser.eval("document.body.dataset.state"));
      String job = browser.eval("document.body.dataset.job");
      assertEquals(2, Integer.parseInt(browser.eval("String(document.querySelectorAll('.variant video').length)")));
      for (int v = 0; v < 2; v++) {
        checkVariant(browser, job, v);
      }
      String positions = browser.eval("JSON.stringify([...document.querySelectorAll('.variant')]"
          + ".map(c => c.getBoundingClientRect().top))");
      JsonArray tops = JsonParser.parseString(positions).getAsJsonArray();
      assertEquals(tops.get(0).getAsDouble(), tops.get(1).getAsDouble(), 1.0, "side by side on a desktop: " + positions);
      assertEquals("[\"Variant 1 seed 0\",\"Variant 2 seed 1\"]", browser.eval("JSON.stringify([...document"
          + ".querySelectorAll('.variant h3')].map(h => h.textContent))"), "each card names its variant and seed");
      screenshot(browser, "results");
      phoneWidthFits(browser, "results-phone", "output");
      viewport(browser, PHONE_WIDTH, 812, true);
      tops = JsonParser.parseString(browser.eval("JSON.stringify([...document.querySelectorAll('.variant')]"
          + ".map(c => c.getBoundingClientRect().top))")).getAsJsonArray();
      assertTrue(tops.get(1).getAsDouble() > tops.get(0).getAsDouble() + 100, "stacked on a phone: " + tops);
      viewport(browser, DESKTOP_WIDTH, DESKTOP_HEIGHT, false);

      // a long job: live progress per variant, then Cancel
      set(browser, "steps", "400");
      set(browser, "seed", "7");
      browser.eval("document.getElementById('submit').click(); 'ok'");
      waitFor(browser, "document.body.dataset.state === 'running' && document.getElementById('progress').value > 0"
          + " && document.querySelectorAll('.variant .vstatus')[1].textContent.startsWith('step ')");
      assertEquals("[\"Variant 1 seed 7\",\"Variant 2 seed 8\"]", browser.eval("JSON.stringify([...document"
          + ".querySelectorAll('.variant h3')].map(h => h.textContent))"));
      assertTrue(Double.parseDouble(browser.eval("String(document.querySelector('.variant progress').value)")) > 0,
          "a variant's bar follows the steps");
      screenshot(browser, "progress");
      assertFalse(Boolean.parseBoolean(browser.eval("String(document.getElementById('cancel').hidden)")));
      browser.eval("document.getElementById('cancel').click(); 'ok'");
      waitFor(browser, "document.body.dataset.state === 'failed'");
      assertEquals("The job was cancelled", browser.eval("document.getElementById('error').dataset.title"));

      // a file that is not a video: the server's 400, with its message
      Path notVideo = dir.resolve("notes.mp4");
      Files.writeString(notVideo, "these are notes, not a video\n".repeat(50));
      setFile(browser, notVideo);
      set(browser, "variants", "1");
      submitAndWaitForFailure(browser);
      assertEquals("The service cannot use this video", browser.eval("document.getElementById('error').dataset.title"));
      var direct = new Http(service.uri()).post(new Http.Form().video(notVideo).field("prompt", ""));
      assertEquals(400, direct.statusCode(), direct.body());
      String said = Http.json(direct).getAsJsonObject("error").get("message").getAsString();
      String shown = text(browser, "error");
      assertTrue(withoutIds(shown).contains(withoutIds(said)) && shown.contains("Choose another video"),
          "the server's own message (" + said + ") is shown: " + shown);

      // a prompt over the server's field limit: its 413, naming the field
      browser.eval("document.getElementById('prompt').value = 'a'.repeat(20000); 'ok'");
      browser.eval("document.querySelector('#example-clip').click(); 'ok'");
      waitFor(browser, "document.getElementById('video').files[0].name === 'foley-example.mp4'");
      submitAndWaitForFailure(browser);
      assertEquals("A text field is too long", browser.eval("document.getElementById('error').dataset.title"));
      assertTrue(text(browser, "error").contains("'prompt'"), text(browser, "error"));

      // drag and drop, anywhere on the page: a file that is not a video is refused at once, a video is taken
      JsonObject dropped = JsonParser.parseString(browser.eval("(async () => { const zone = document.getElementById('drop');"
          + " const drag = (type, file) => { const dt = new DataTransfer(); if (file) dt.items.add(file);"
          + "   document.getElementById('prompt').dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true,"
          + "   cancelable: true})); };"
          + " drag('dragenter'); const highlighted = zone.classList.contains('over');"
          + " drag('drop', new File(['hello'], 'notes.txt', {type: 'text/plain'}));"
          + " const refused = document.getElementById('error').dataset.title;"
          + " const clip = await (await fetch('/v1/example.mp4')).blob();"
          + " drag('drop', new File([clip], 'dropped.mp4', {type: 'video/mp4'}));"
          + " return JSON.stringify({highlighted, refused, after: zone.classList.contains('over'),"
          + "   chosen: document.getElementById('video').files[0].name}); })()")).getAsJsonObject();
      assertTrue(dropped.get("highlighted").getAsBoolean() && !dropped.get("after").getAsBoolean(), dropped.toString());
      assertEquals("That is not a video", dropped.get("refused").getAsString(), dropped.toString());
      assertEquals("dropped.mp4", dropped.get("chosen").getAsString(), dropped.toString());
      waitFor(browser, "document.getElementById('chosen').textContent.startsWith('dropped.mp4')"
          + " && document.getElementById('preview').readyState >= 1");
      assertEquals("[]", browser.eval("JSON.stringify(violations)"), "the page loads nothing its policy forbids");

      // a full engine: one job running and one queued from another client, so the page's job is answered 503
      Http other = new Http(service.uri());
      Path clip = dir.resolve("clip.mp4");
      Files.write(clip, other.bytes("/v1/example.mp4").body());
      var first = other.post(new Http.Form().video(clip).field("prompt", "").field("steps", "1000"));
      assertEquals(202, first.statusCode(), first.body());
      String running = Http.json(first).get("id").getAsString();
      long until = System.nanoTime() + Chromium.timeout().toNanos();
      while (!Http.json(other.get("/v1/jobs/" + running)).get("status").getAsString().equals("running")) {
        assertTrue(System.nanoTime() < until, "the other client's job never started");
        Thread.sleep(20);
      }
      var queued = other.post(new Http.Form().video(clip).field("prompt", "").field("steps", "1000")
          .field("seed", "1"));
      assertEquals(202, queued.statusCode(), queued.body());
      browser.eval("document.getElementById('prompt').value = 'rain'; 'ok'");
      submitAndWaitForFailure(browser);
      assertEquals("The service is busy", browser.eval("document.getElementById('error').dataset.title"));
      assertTrue(text(browser, "error").contains("queue is full") && text(browser, "error")
          .matches("(?s).*Try again in \\d+ s\\..*"), text(browser, "error"));
      assertTrue(text(browser, "submit").startsWith("Try again in"), "the button counts the wait down");
      other.delete("/v1/jobs/" + Http.json(queued).get("id").getAsString());
      other.delete("/v1/jobs/" + running);
    }
  }

  @Test
  void aKeyedServiceOnJcodecExplains401And413And429AndTheRightKeyGetsItsResults() throws Exception {
    Chromium.executable();
    ServiceConfig config = ServiceConfig.defaults(dir.resolve("data")).withApiKeys(Set.of("secret"))
        .withMaxUpload(400 * 1024).withRate(0.001, 2);
    try (ModelBundle bundle = TestSupport.referenceBundle();
         FoleyService service = FoleyService.start(config, FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()),
             JcodecVideoSources.jcodec());
         Chromium browser = new Chromium(service.uri().resolve("/"), dir.resolve("profile"))) {
      viewport(browser, DESKTOP_WIDTH, DESKTOP_HEIGHT, false);
      waitFor(browser, "document.body.dataset.info === 'loaded'");
      assertEquals("API key (required)", text(browser, "apikey-label"));
      assertTrue(text(browser, "video-hint").startsWith("H.264 in MP4 or MOV (this service reads video with jcodec), "
          + "up to 400 KB"), "a service on jcodec says what it reads: " + text(browser, "video-hint"));
      browser.eval("document.querySelector('#example-clip').click(); 'ok'");
      waitFor(browser, "document.getElementById('video').files.length === 1");
      assertTrue(Long.parseLong(browser.eval("String(document.getElementById('video').files[0].size)")) < 400 * 1024,
          "the example clip fits this service's limit");
      set(browser, "steps", "2");
      browser.eval("document.getElementById('prompt').value = 'a door slams'; 'ok'");

      submitAndWaitForFailure(browser);
      assertEquals("This service needs an API key", browser.eval("document.getElementById('error').dataset.title"));
      assertTrue(text(browser, "error").contains("API key field"), text(browser, "error"));
      assertEquals("true", browser.eval("String(document.getElementById('apikey').classList.contains('needs'))"));
      screenshot(browser, "error");

      browser.eval("document.getElementById('apikey').value = 'wrong'; 'ok'");
      submitAndWaitForFailure(browser);
      assertEquals("The API key was not accepted", browser.eval("document.getElementById('error').dataset.title"));

      // a video over the limit is refused before it is sent...
      browser.eval("document.getElementById('apikey').value = 'secret'; 'ok'");
      Path big = dir.resolve("big.mp4");
      Files.write(big, new byte[500 * 1024]);
      setFile(browser, big);
      submitAndWaitForFailure(browser);
      assertEquals("The video is too large", browser.eval("document.getElementById('error').dataset.title"));
      assertTrue(text(browser, "error").contains("over this service's limit of 400 KB"), text(browser, "error"));
      // ...and, should the page not know the limit, the server's 413 says the same
      browser.eval("state.info.maxUploadBytes = 1e12; 'ok'");
      submitAndWaitForFailure(browser);
      assertEquals("The video is too large", browser.eval("document.getElementById('error').dataset.title"));
      assertTrue(text(browser, "error").contains("limit of 409600 bytes"), text(browser, "error"));

      // the right key: progress over SSE read with fetch (which sends the key), media and downloads as blobs
      browser.eval("document.querySelector('#example-clip').click(); 'ok'");
      waitFor(browser, "document.getElementById('video').files[0].name === 'foley-example.mp4'");
      browser.eval("document.getElementById('submit').click(); 'ok'");
      waitFor(browser, "document.body.dataset.waveforms !== undefined || document.body.dataset.state === 'failed'");
      assertEquals("drawn", browser.eval("document.body.dataset.waveforms"), text(browser, "error"));
      assertTrue(text(browser, "log").contains("variant 1, chunk 0: samples 0 +"), "SSE with a key: " + text(browser, "log"));
      String media = playVideo(browser, 0);
      JsonObject m = JsonParser.parseString(media).getAsJsonObject();
      assertTrue(m.get("error").isJsonNull() && m.get("src").getAsString().startsWith("blob:"), media);
      assertEquals(2.0, m.get("duration").getAsDouble(), 0.05, media);
      assertTrue(Double.parseDouble(browser.eval("document.querySelector('.variant').dataset.peak")) > 0);

      // the rate (0.001 per second, burst 2) is spent: 429 with the wait from Retry-After
      browser.eval("document.getElementById('seed').value = '5'; 'ok'");
      submitAndWaitForFailure(browser);
      assertEquals("Too many jobs", browser.eval("document.getElementById('error').dataset.title"));
      assertTrue(text(browser, "error").matches("(?s).*Try again in \\d+ s.*"), text(browser, "error"));
      assertTrue(text(browser, "submit").startsWith("Try again in"), text(browser, "submit"));
    }
  }

  @Test
  void onANodeOfSeveralModelsThePageOffersThemAndRunsTheJobOnTheChosenOne() throws Exception {
    Chromium.executable();
    FoleyModels.Builder models = FoleyModels.builder().defaultModel("small");
    for (String name : new String[] {"small", "other"}) {
      models.model(name, TestSupport::smallReferenceBundle, e -> { }, 100);
    }
    try (FoleyService service = FoleyService.start(ServiceConfig.defaults(dir.resolve("data")), models,
             JcodecVideoSources.jcodec());
         Chromium browser = new Chromium(service.uri().resolve("/"), dir.resolve("profile"))) {
      viewport(browser, DESKTOP_WIDTH, DESKTOP_HEIGHT, false);
      waitFor(browser, "document.body.dataset.info === 'loaded'");
      assertEquals("false", browser.eval("String(document.getElementById('model-row').hidden)"), "a choice of model");
      assertEquals("[\"small (default)\",\"other\"]", browser.eval("JSON.stringify([...document"
          + ".querySelectorAll('#model-select option')].map(o => o.textContent))"));
      assertEquals("small", value(browser, "model-select"), "the default is preselected");
      assertEquals("", value(browser, "steps"), "no defaults to show: each model's own");
      assertEquals("", value(browser, "cfg"));
      assertTrue(text(browser, "model").startsWith("Model small · videos up to"), text(browser, "model"));

      browser.eval("document.getElementById('model-select').value = 'other';"
          + " document.querySelector('#example-clip').click(); 'ok'");
      waitFor(browser, "document.getElementById('video').files.length === 1");
      set(browser, "steps", "2");
      browser.eval("document.getElementById('submit').click(); 'ok'");
      waitFor(browser, "document.body.dataset.waveforms !== undefined || document.body.dataset.state === 'failed'");
      assertEquals("drawn", browser.eval("document.body.dataset.waveforms"), text(browser, "error"));
      JsonArray listed = Http.json(new Http(service.uri()).get("/v1/models")).getAsJsonArray("models");
      for (var m : listed) {
        JsonObject o = m.getAsJsonObject();
        if (o.get("name").getAsString().equals("other")) {
          assertEquals(1, o.get("loads").getAsInt(), "the job ran on the chosen model: " + listed);
        }
      }
    }
  }

  // ---------------------------------------------------------------- checks

  private static void checkVariant(Chromium browser, String job, int v) throws Exception {
    String media = playVideo(browser, v);
    JsonObject m = JsonParser.parseString(media).getAsJsonObject();
    assertTrue(m.get("error").isJsonNull(), "variant " + v + "'s video plays: " + media);
    assertTrue(m.get("src").getAsString().endsWith("/v1/jobs/" + job + "/video?variant=" + v), media);
    assertEquals(2.0, m.get("duration").getAsDouble(), 0.05, media);
    assertTrue(m.get("played").getAsBoolean(), media);
    assertTrue(m.get("audioTracks").getAsInt() >= 1, "an audio track: " + media);
    assertTrue(m.get("decoded").getAsLong() > 0, "its audio is decoded while playing: " + media);

    // the waveform: drawn from the decoded WAV, with ink away from the centre line
    String card = "document.querySelector('.variant[data-variant=\"" + v + "\"]')";
    JsonObject wave = JsonParser.parseString(browser.eval("(() => { const c = " + card + ".querySelector('canvas');"
        + " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let ink = 0;"
        + " for (let y = 0; y < c.height; y++) { if (Math.abs(y - c.height / 2) < 3) continue;"
        + "   for (let x = 0; x < c.width; x++) { if (d[(y * c.width + x) * 4 + 3] > 0) ink++; } }"
        + " return JSON.stringify({ink, pixels: c.width * c.height, peak: " + card + ".dataset.peak,"
        + " seconds: " + card + ".dataset.seconds}); })()")).getAsJsonObject();
    assertTrue(wave.get("peak").getAsDouble() > 0, "variant " + v + " is not silent: " + wave);
    assertEquals(2.0, wave.get("seconds").getAsDouble(), 0.01, wave.toString());
    assertTrue(wave.get("ink").getAsInt() > wave.get("pixels").getAsInt() / 100, "a visible waveform: " + wave);

    String audio = browser.eval("new Promise((ok) => { const a = " + card + ".querySelector('audio');"
        + " const r = () => ok(String(a.duration)); if (a.readyState >= 1) r(); else a.addEventListener('loadedmetadata', r); })");
    assertEquals(2.0, Double.parseDouble(audio), 0.01, "the audio player has the WAV");

    // the downloads: each link's URL and what fetching it answers
    JsonArray links = JsonParser.parseString(browser.eval("Promise.all([..." + card + ".querySelectorAll('.downloads a')]"
        + ".map(a => fetch(a.href).then(r => r.arrayBuffer().then(b => ({format: a.dataset.format, href: a.href,"
        + " name: a.download, status: r.status, type: r.headers.get('Content-Type'), bytes: b.byteLength})))))"
        + ".then(JSON.stringify)")).getAsJsonArray();
    String base = "/v1/jobs/" + job;
    String[][] expected = {
        {"wav", base + "/audio?variant=" + v + "&format=wav", "audio/wav"},
        {"flac", base + "/audio?variant=" + v + "&format=flac", "audio/flac"},
        {"m4a", base + "/audio?variant=" + v + "&format=m4a", "audio/mp4"},
        {"video", base + "/video?variant=" + v, "video/quicktime"}};
    assertEquals(expected.length, links.size(), links.toString());
    for (int i = 0; i < expected.length; i++) {
      JsonObject l = links.get(i).getAsJsonObject();
      assertEquals(expected[i][0], l.get("format").getAsString(), l.toString());
      assertTrue(l.get("href").getAsString().endsWith(expected[i][1]), l.toString());
      assertEquals(200, l.get("status").getAsInt(), l.toString());
      assertEquals(expected[i][2], l.get("type").getAsString(), l.toString());
      assertTrue(l.get("bytes").getAsLong() > 1000, l.toString());
      assertTrue(l.get("name").getAsString().startsWith(job), "saved under the job's name: " + l);
    }
    assertEquals(44 + 2 * 96_000, links.get(0).getAsJsonObject().get("bytes").getAsLong(),
        "the WAV is 2 s of 16-bit 48 kHz audio");
  }

  /** Plays variant {@code v}'s video (muted) and reports what the element saw. */
  private static String playVideo(Chromium browser, int v) throws Exception {
    return browser.eval("new Promise((ok) => {"
        + " const vid = document.querySelector('.variant[data-variant=\"" + v + "\"] video');"
        + " let played = false;"
        + " const report = () => ok(JSON.stringify({src: vid.src, duration: vid.duration, played,"
        + "   audioTracks: vid.audioTracks ? vid.audioTracks.length : -1,"
        + "   error: vid.error ? vid.error.code + ' ' + vid.error.message : null, decoded: vid.webkitAudioDecodedByteCount}));"
        + " const play = () => { vid.muted = true; vid.play().then(() => { played = true; setTimeout(() => { vid.pause(); report(); }, 600); }, report); };"
        + " if (vid.readyState >= 1) play(); else { vid.addEventListener('loadedmetadata', play); vid.addEventListener('error', report); }"
        + "})");
  }

  /** At 375 px the page has no horizontal scroll; optionally saves a screenshot of {@code show}. */
  private static void phoneWidthFits(Chromium browser, String shot, String show) throws Exception {
    viewport(browser, PHONE_WIDTH, 812, true);
    Thread.sleep(300); // a layout pass
    assertEquals(PHONE_WIDTH, Integer.parseInt(browser.eval("String(window.innerWidth)")), "the phone viewport applies");
    int scroll = Integer.parseInt(browser.eval("String(document.documentElement.scrollWidth)"));
    assertTrue(scroll <= PHONE_WIDTH, "no horizontal scroll at " + PHONE_WIDTH + " px: scrollWidth " + scroll);
    String stacked = browser.eval("String(document.getElementById('output').getBoundingClientRect().top"
        + " >= document.getElementById('form').getBoundingClientRect().bottom"
        + " && document.getElementById('steps').getBoundingClientRect().right <= " + PHONE_WIDTH + ")");
    assertEquals("true", stacked, "the form and the results are stacked, the controls inside the screen");
    browser.eval("document.getElementById('" + show + "').scrollIntoView(); 'ok'");
    screenshot(browser, shot);
    viewport(browser, DESKTOP_WIDTH, DESKTOP_HEIGHT, false);
    browser.eval("window.scrollTo(0, 0); 'ok'");
  }

  // ---------------------------------------------------------------- helpers

  /** A message with each upload's id (it names the stored file) replaced, so that two uploads' messages compare. */
  private static String withoutIds(String message) {
    return message.replaceAll("[0-9a-f]{32}", "<id>");
  }

  private static void submitAndWaitForFailure(Chromium browser) throws Exception {
    browser.eval("document.body.dataset.state = 'idle'; document.getElementById('submit').disabled = false;"
        + " document.getElementById('submit').click(); 'ok'");
    waitFor(browser, "document.body.dataset.state === 'failed' || document.body.dataset.state === 'done'");
    assertEquals("failed", browser.eval("document.body.dataset.state"));
  }

  private static void viewport(Chromium browser, int width, int height, boolean mobile) throws Exception {
    JsonObject p = new JsonObject();
    p.addProperty("width", width);
    p.addProperty("height", height);
    p.addProperty("deviceScaleFactor", 1);
    p.addProperty("mobile", mobile);
    browser.call("Emulation.setDeviceMetricsOverride", p);
  }

  private static void setFile(Chromium browser, Path file) throws Exception {
    JsonObject doc = browser.call("DOM.getDocument", null);
    JsonObject q = new JsonObject();
    q.addProperty("nodeId", doc.getAsJsonObject("root").get("nodeId").getAsInt());
    q.addProperty("selector", "#video");
    int input = browser.call("DOM.querySelector", q).get("nodeId").getAsInt();
    JsonObject files = new JsonObject();
    files.addProperty("nodeId", input);
    JsonArray list = new JsonArray();
    list.add(file.toAbsolutePath().toString());
    files.add("files", list);
    browser.call("DOM.setFileInputFiles", files);
    waitFor(browser, "document.getElementById('video').files.length === 1"
        + " && document.getElementById('chosen').textContent.startsWith('" + file.getFileName() + "')");
  }

  /** Sets a field and tells the page, as typing would. */
  private static void set(Chromium browser, String id, String value) throws Exception {
    browser.eval("(() => { const f = document.getElementById('" + id + "'); f.value = '" + value + "';"
        + " f.dispatchEvent(new Event('input', {bubbles: true})); return 'ok'; })()");
  }

  private static String value(Chromium browser, String id) throws Exception {
    return browser.eval("document.getElementById('" + id + "').value");
  }

  private static String text(Chromium browser, String id) {
    try {
      return browser.eval("document.getElementById('" + id + "').textContent");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** With FOLEY_SCREENSHOTS=dir, saves the viewport as dir/name.png. */
  private static void screenshot(Chromium browser, String name) throws Exception {
    String dir = System.getenv("FOLEY_SCREENSHOTS");
    if (dir == null || dir.isBlank()) {
      return;
    }
    Thread.sleep(400); // video frames and layout settle
    JsonObject p = new JsonObject();
    p.addProperty("format", "png");
    byte[] png = Base64.getDecoder().decode(browser.call("Page.captureScreenshot", p).get("data").getAsString());
    Path target = Path.of(dir).resolve(name + ".png");
    Files.createDirectories(target.getParent());
    Files.write(target, png);
    System.out.println("screenshot " + target + " (" + png.length / 1024 + " KB)");
  }

  private static void waitFor(Chromium browser, String condition) throws Exception {
    long deadline = System.nanoTime() + Chromium.timeout().toNanos();
    while (System.nanoTime() < deadline) {
      // false, not a failure, while the page is still loading (no body yet)
      if ("true".equals(browser.eval("(() => { try { return String(" + condition + "); } catch (e) { return 'false'; } })()"))) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("not reached in the browser: " + condition + "; state "
        + browser.eval("document.body.dataset.state") + ", error: " + text(browser, "error"));
  }
}
