package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's chromium, headless, driven over the DevTools protocol (a WebSocket from
 * java.net.http): open a page, call protocol methods, evaluate scripts.
 */
final class Chromium implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
  private final Process process;
  private final WebSocket socket;
  private final HttpClient http = HttpClient.newHttpClient();
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();

  /** Skips the test when chromium is missing, unless FOLEY_REQUIRE_CHROMIUM=1 (then it fails). */
  static String executable() {
    for (String p : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
      if (Files.isExecutable(Path.of(p))) {
        return p;
      }
    }
    if ("1".equals(System.getenv("FOLEY_REQUIRE_CHROMIUM"))) {
      fail("FOLEY_REQUIRE_CHROMIUM=1 but chromium is not installed (apt-get install chromium)");
    }
    Assumptions.assumeTrue(false, "chromium is not installed");
    return null;
  }

  /** Starts chromium on {@code url} and connects to that page's DevTools socket. */
  Chromium(URI url, Path profile) throws Exception {
    process = new ProcessBuilder(executable(), "--headless=new", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--no-first-run", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
        "--enable-blink-features=AudioVideoTracks", "--remote-debugging-port=0", "--remote-allow-origins=*",
        "--user-data-dir=" + profile, url.toString()).redirectErrorStream(true).start();
    try {
      String browserWs = awaitListening();
      URI http = URI.create(browserWs.replaceFirst("^ws://", "http://"));
      URI list = http.resolve("/json/list");
      String pageWs = null;
      for (int i = 0; i < 100 && pageWs == null; i++) {
        JsonArray targets = JsonParser.parseString(this.http.send(HttpRequest.newBuilder(list).build(),
            HttpResponse.BodyHandlers.ofString()).body()).getAsJsonArray();
        for (var t : targets) {
          JsonObject o = t.getAsJsonObject();
          if (o.get("type").getAsString().equals("page") && o.has("webSocketDebuggerUrl")) {
            pageWs = o.get("webSocketDebuggerUrl").getAsString();
          }
        }
        if (pageWs == null) {
          Thread.sleep(100);
        }
      }
      if (pageWs == null) {
        throw new AssertionError("chromium opened no page");
      }
      socket = this.http.newWebSocketBuilder().buildAsync(URI.create(pageWs), new Listener()).get(20, TimeUnit.SECONDS);
    } catch (Exception | Error e) {
      process.destroyForcibly();
      throw e;
    }
  }

  private String awaitListening() throws Exception {
    CompletableFuture<String> ws = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        StringBuilder seen = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            ws.complete(m.group(1));
          } else if (!ws.isDone() && seen.length() < 4000) {
            seen.append(line).append('\n');
          }
        }
        ws.completeExceptionally(new AssertionError("chromium exited: " + seen));
      } catch (IOException e) {
        ws.completeExceptionally(e);
      }
    }, "chromium-output");
    reader.setDaemon(true);
    reader.start();
    return ws.get(60, TimeUnit.SECONDS);
  }

  /** Calls a DevTools method and returns its result (fails on a protocol error). */
  JsonObject call(String method, JsonObject params) throws Exception {
    int id = ids.incrementAndGet();
    JsonObject msg = new JsonObject();
    msg.addProperty("id", id);
    msg.addProperty("method", method);
    msg.add("params", params == null ? new JsonObject() : params);
    CompletableFuture<JsonObject> answer = new CompletableFuture<>();
    pending.put(id, answer);
    synchronized (socket) {
      socket.sendText(msg.toString(), true).get(10, TimeUnit.SECONDS);
    }
    JsonObject r = answer.get(150, TimeUnit.SECONDS);
    if (r.has("error")) {
      throw new AssertionError(method + " failed: " + r.get("error"));
    }
    return r.getAsJsonObject("result");
  }

  /** Evaluates a script in the page (awaiting a promise) and returns its value as a string. */
  String eval(String script) throws Exception {
    JsonObject p = new JsonObject();
    p.addProperty("expression", script);
    p.addProperty("awaitPromise", true);
    p.addProperty("returnByValue", true);
    JsonObject r = call("Runtime.evaluate", p);
    if (r.has("exceptionDetails")) {
      throw new AssertionError("script failed: " + r.get("exceptionDetails"));
    }
    JsonObject v = r.getAsJsonObject("result");
    return v.has("value") ? v.get("value").getAsString() : "";
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder text = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        JsonObject o = JsonParser.parseString(text.toString()).getAsJsonObject();
        text.setLength(0);
        if (o.has("id")) {
          CompletableFuture<JsonObject> f = pending.remove(o.get("id").getAsInt());
          if (f != null) {
            f.complete(o);
          }
        }
      }
      ws.request(1);
      return null;
    }
  }

  @Override
  public void close() throws InterruptedException {
    try {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(2, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // the process goes anyway
    }
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  static Duration timeout() {
    return Duration.ofMinutes(2);
  }
}
