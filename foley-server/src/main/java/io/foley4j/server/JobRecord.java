package io.foley4j.server;

import com.google.gson.JsonObject;
import io.foley4j.AudioChunk;
import io.foley4j.FoleyException;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyListener;
import io.foley4j.FoleyResult;
import io.foley4j.Progress;
import io.foley4j.StageTimings;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One job of the service: its state, and the log of events that SSE clients replay and follow.
 * The engine's listener methods only update fields and wake waiting readers under this record's
 * own monitor (no I/O, no user code), so they never hold an engine thread for long.
 */
final class JobRecord implements FoleyListener {
  enum Status { QUEUED, RUNNING, DONE, FAILED, CANCELLED;
    String json() {
      return name().toLowerCase(Locale.ROOT);
    }
    boolean terminal() {
      return this == DONE || this == FAILED || this == CANCELLED;
    }
  }

  final String id;
  final String key;          // identical requests share it
  final Path video;
  final String client;
  final String webhook;      // null: none
  final Instant created = Instant.now();

  private Status status = Status.QUEUED;
  private Progress progress = new Progress(0, 0, 0, 0);
  private StageTimings timings;
  private String errorCode;
  private String errorMessage;
  private int sampleRate;
  private long sampleCount;
  private long[] seeds = new long[0]; // of each variant, once done
  private Instant finished;
  private FoleyJob job;
  private FoleyResult result;
  private final List<String> events = new ArrayList<>(); // SSE frames, in order
  private volatile boolean expired; // set before expiry deletes the job's files

  JobRecord(String id, String key, Path video, String client, String webhook) {
    this.id = id;
    this.key = key;
    this.video = video;
    this.client = client;
    this.webhook = webhook;
  }

  synchronized void attach(FoleyJob job) {
    this.job = job;
  }

  synchronized FoleyJob job() {
    return job;
  }

  synchronized Status status() {
    return status;
  }

  synchronized FoleyResult result() {
    return result;
  }

  synchronized Instant finished() {
    return finished;
  }

  @Override
  public void onProgress(Progress p) {
    synchronized (this) {
      if (status.terminal()) {
        return;
      }
      status = Status.RUNNING;
      progress = p;
      JsonObject o = new JsonObject();
      o.addProperty("segmentsDone", p.segmentsDone());
      o.addProperty("segmentsTotal", p.segmentsTotal());
      o.addProperty("stepsDone", p.stepsDone());
      o.addProperty("stepsTotal", p.stepsTotal());
      o.addProperty("fraction", p.fraction());
      append("progress", o);
    }
  }

  @Override
  public void onChunk(AudioChunk c) {
    synchronized (this) {
      if (status.terminal()) {
        return;
      }
      status = Status.RUNNING;
      JsonObject o = new JsonObject();
      o.addProperty("variant", c.variant());
      o.addProperty("index", c.index());
      o.addProperty("offset", c.sampleOffset());
      o.addProperty("length", c.length());
      o.addProperty("startSeconds", c.startSeconds());
      o.addProperty("last", c.isLast());
      append("chunk", o);
    }
  }

  /** The job is done and its WAV stored: readers may fetch it now. */
  synchronized void done(FoleyResult r) {
    if (status.terminal()) {
      return;
    }
    result = r;
    timings = r.timings();
    sampleRate = r.sampleRate();
    sampleCount = r.sampleCount();
    seeds = new long[r.variantCount()];
    for (int v = 0; v < seeds.length; v++) {
      seeds[v] = r.variant(v).seed();
    }
    status = Status.DONE;
    finished = Instant.now();
    append("done", toJson());
  }

  synchronized void failed(FoleyException e) {
    if (status.terminal()) {
      return;
    }
    status = e.code() == FoleyException.Code.CANCELLED ? Status.CANCELLED : Status.FAILED;
    errorCode = e.code().name();
    errorMessage = e.getMessage();
    finished = Instant.now();
    append(status == Status.CANCELLED ? "cancelled" : "failed", toJson());
  }

  private void append(String event, JsonObject data) {
    events.add("event: " + event + "\ndata: " + data + "\n\n");
    notifyAll();
  }

  /**
   * Events from index {@code from} on, waiting up to {@code millis} for one to arrive; empty when
   * none came. A terminal job's log is complete.
   */
  synchronized List<String> eventsFrom(int from, long millis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + millis;
    while (events.size() <= from && !status.terminal()) {
      long left = deadline - System.currentTimeMillis();
      if (left <= 0) {
        break;
      }
      wait(left);
    }
    return from < events.size() ? List.copyOf(events.subList(from, events.size())) : List.of();
  }

  synchronized boolean complete(int seen) {
    return status.terminal() && seen >= events.size();
  }

  /** Marks the job as expiring: from now on no file may be added beside its results. */
  void markExpired() {
    expired = true;
  }

  boolean expired() {
    return expired;
  }

  /** Wakes readers (at shutdown). */
  synchronized void wake() {
    notifyAll();
  }

  synchronized JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("id", id);
    o.addProperty("status", status.json());
    JsonObject p = new JsonObject();
    p.addProperty("segmentsDone", progress.segmentsDone());
    p.addProperty("segmentsTotal", progress.segmentsTotal());
    p.addProperty("stepsDone", progress.stepsDone());
    p.addProperty("stepsTotal", progress.stepsTotal());
    p.addProperty("fraction", status == Status.DONE ? 1.0 : progress.stepsTotal() == 0 ? 0.0 : progress.fraction());
    o.add("progress", p);
    o.addProperty("created", created.toString());
    if (finished != null) {
      o.addProperty("finished", finished.toString());
    }
    if (timings != null) {
      JsonObject t = new JsonObject();
      for (StageTimings.Phase ph : StageTimings.Phase.values()) {
        t.addProperty(ph.name().toLowerCase(Locale.ROOT), timings.millis(ph));
      }
      o.add("timingsMs", t);
      o.addProperty("resultCacheHit", timings.resultCacheHit());
    }
    if (status == Status.DONE) {
      o.addProperty("sampleRate", sampleRate);
      o.addProperty("sampleCount", sampleCount);
      o.addProperty("durationSeconds", sampleCount / (double) sampleRate);
      o.addProperty("audio", "/v1/jobs/" + id + "/audio");
      o.addProperty("video", "/v1/jobs/" + id + "/video");
      com.google.gson.JsonArray vs = new com.google.gson.JsonArray();
      for (int v = 0; v < seeds.length; v++) {
        JsonObject one = new JsonObject();
        one.addProperty("variant", v);
        one.addProperty("seed", seeds[v]);
        one.addProperty("audio", "/v1/jobs/" + id + "/audio?variant=" + v);
        one.addProperty("video", "/v1/jobs/" + id + "/video?variant=" + v);
        vs.add(one);
      }
      o.add("variants", vs);
    }
    if (errorCode != null) {
      JsonObject err = new JsonObject();
      err.addProperty("code", errorCode);
      err.addProperty("message", errorMessage);
      o.add("error", err);
    }
    return o;
  }
}
