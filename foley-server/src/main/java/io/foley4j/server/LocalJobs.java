package io.foley4j.server;

import io.foley4j.jcodec.Mp4Outputs;

import com.google.gson.JsonObject;
import io.foley4j.FoleyException;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyResult;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/** Jobs on this node's engine, kept in memory: one node, no Redis. */
final class LocalJobs implements Jobs {
  private static final Logger LOG = Logger.getLogger(LocalJobs.class.getName());
  private final Engines engines;
  private final Path uploads;
  private final Path results;
  private final Duration retention;
  private final ExecutorService finisher;
  private final Webhooks webhooks;
  private final Clock clock;
  private final Map<String, JobRecord> jobs = new ConcurrentHashMap<>();
  private final Map<String, String> doneByKey = new ConcurrentHashMap<>();

  LocalJobs(Engines engines, Path uploads, Path results, Duration retention, ExecutorService finisher,
      Webhooks webhooks, Clock clock) {
    this.engines = engines;
    this.uploads = uploads;
    this.results = results;
    this.retention = retention;
    this.finisher = finisher;
    this.webhooks = webhooks;
    this.clock = clock;
  }

  @Override
  public JsonObject doneFor(String key) {
    String id = doneByKey.get(key);
    JobRecord prior = id == null ? null : jobs.get(id);
    return prior != null && prior.status() == JobRecord.Status.DONE ? prior.toJson() : null;
  }

  @Override
  public JsonObject submit(JobSpec spec) {
    return submit(spec, spec.toRequest(uploads));
  }

  /**
   * Accepts a job whose video is still arriving on {@code video} (at most {@code maxBytes}): it runs on
   * this node's engine, which decodes the video as it arrives where the container allows it (unless
   * {@code readWhole}).
   */
  JsonObject submitStream(JobSpec spec, java.io.InputStream video, long maxBytes, boolean readWhole) {
    return submit(spec, spec.toRequest(video, maxBytes, readWhole));
  }

  private JsonObject submit(JobSpec spec, io.foley4j.FoleyRequest request) {
    JobRecord rec = new JobRecord(spec.id(), spec.key(), uploads.resolve(spec.videoName()), spec.client(),
        spec.webhook());
    FoleyJob job = engines.submit(spec.model(), request, rec);
    if (job.result().isCompletedExceptionally()) {
      throw HttpError.refused(failure(job));
    }
    rec.attach(job);
    jobs.put(spec.id(), rec);
    job.result().whenCompleteAsync((r, e) -> finish(rec, r), finisher);
    return rec.toJson();
  }

  /** On a finisher thread: stores the WAV, then marks the job done (or failed) and calls its webhook. */
  private void finish(JobRecord rec, FoleyResult result) {
    if (result == null) {
      rec.failed(failure(rec.job()));
    } else {
      try {
        for (int v = 0; v < result.variantCount(); v++) { // every variant's WAV before the job shows done
          String name = JobSpec.resultName(rec.id, v, ".wav");
          Path tmp = results.resolve(name + ".tmp");
          result.variant(v).writeWav(tmp);
          Files.move(tmp, results.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        rec.done(result);
        doneByKey.put(rec.key, rec.id);
      } catch (IOException | RuntimeException e) {
        rec.failed(e instanceof FoleyException f ? f
            : new FoleyException(FoleyException.Code.IO, "cannot store the result: " + e, e));
      }
    }
    if (rec.webhook != null) {
      webhooks.deliver(rec.webhook, rec.toJson().toString());
    }
  }

  static FoleyException failure(FoleyJob job) {
    try {
      job.await();
      return new FoleyException(FoleyException.Code.INTERNAL, "job completed without a result");
    } catch (FoleyException e) {
      return e;
    }
  }

  private JobRecord get(String id) {
    JobRecord rec = jobs.get(id);
    if (rec == null) {
      throw HttpError.notFound(id, retention);
    }
    return rec;
  }

  @Override
  public String owner(String id) {
    JobRecord rec = jobs.get(id);
    return rec == null ? null : rec.client;
  }

  @Override
  public boolean kept(String id) {
    JobRecord rec = jobs.get(id);
    return rec != null && !rec.expired();
  }

  @Override
  public JsonObject status(String id) {
    JobRecord rec = jobs.get(id);
    return rec == null ? null : rec.toJson();
  }

  @Override
  public Slice events(String id, int from, long millis) throws InterruptedException {
    JobRecord rec = jobs.get(id);
    if (rec == null) {
      return null;
    }
    List<String> frames = rec.eventsFrom(from, millis);
    return new Slice(frames, rec.complete(from + frames.size()));
  }

  @Override
  public JsonObject cancel(String id) {
    JobRecord rec = get(id);
    FoleyJob job = rec.job();
    if (rec.status().terminal() || job == null || !job.cancel()) {
      throw HttpError.alreadyFinished(id, rec.status().json());
    }
    rec.failed(new FoleyException(FoleyException.Code.CANCELLED, "cancelled by DELETE /v1/jobs/" + id));
    return rec.toJson();
  }

  private JobRecord done(String id) {
    JobRecord rec = get(id);
    if (rec.status() != JobRecord.Status.DONE) {
      throw HttpError.notDone(id, rec.status().json());
    }
    return rec;
  }

  /** A done job that has variant {@code variant}; 404 naming the count otherwise. */
  private JobRecord done(String id, int variant) {
    JobRecord rec = done(id);
    int count = rec.result().variantCount();
    if (variant >= count) {
      throw HttpError.noVariant(id, variant, count);
    }
    return rec;
  }

  @Override
  public Path audio(String id, int variant) {
    return results.resolve(JobSpec.resultName(done(id, variant).id, variant, ".wav"));
  }

  @Override
  public Path video(String id, int variant) {
    JobRecord rec = done(id, variant);
    Path mov = results.resolve(JobSpec.resultName(id, variant, ".mov"));
    synchronized (rec) { // no user code runs here: only our own remux of our own files
      if (!Files.exists(mov)) {
        Path tmp = results.resolve(JobSpec.resultName(id, variant, ".mov.tmp"));
        try {
          Mp4Outputs.writeVideoWithSound(rec.result().variant(variant), tmp);
          Files.move(tmp, mov, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
          Files2.deleteQuietly(tmp);
          if (rec.expired()) {
            throw HttpError.notFound(id, retention); // expiry deleted the files under us
          }
          throw e instanceof FoleyException f ? f
              : new FoleyException(FoleyException.Code.IO, "cannot store the video: " + e, e);
        }
      }
    }
    if (rec.expired()) { // expiry marks before it deletes: it may have listed the directory before the move
      Files2.deleteQuietly(mov);
      throw HttpError.notFound(id, retention);
    }
    return mov;
  }

  @Override
  public void drain(long deadlineNanos) throws InterruptedException {
    List<JobRecord> open = new ArrayList<>(jobs.values());
    for (JobRecord rec : open) {
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        rec.job().result().handle((r, e) -> null).get(left, TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        break; // the rest are cancelled below
      }
    }
    for (JobRecord rec : open) {
      if (rec.job().cancel()) {
        rec.failed(new FoleyException(FoleyException.Code.CANCELLED, "the service shut down before the job "
            + "finished; submit it again"));
      }
    }
  }

  @Override
  public void expire() {
    Instant limit = clock.instant().minus(retention);
    for (JobRecord rec : jobs.values()) {
      Instant f = rec.finished();
      if (f != null && f.isBefore(limit)) {
        // first: a conversion that finishes after this sees the mark and deletes its own file (Jobs.kept)
        rec.markExpired();
        doneByKey.remove(rec.key, rec.id);
        // every file of the job: the WAV, the video, FLAC/M4A made on request and their temporary files
        try (DirectoryStream<Path> files = Files.newDirectoryStream(results, rec.id + ".*")) {
          files.forEach(Files2::deleteQuietly);
        } catch (IOException e) {
          LOG.log(Level.WARNING, "cannot list " + results + " to delete job " + rec.id + "'s files", e);
        }
        Files2.deleteQuietly(rec.video);
        jobs.remove(rec.id); // last: a 404 means the files are gone
      }
    }
  }

  @Override
  public void close() {
    for (JobRecord rec : jobs.values()) {
      rec.wake();
    }
  }
}
