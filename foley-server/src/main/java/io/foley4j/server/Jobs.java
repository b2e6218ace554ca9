package io.foley4j.server;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the service's jobs live and run: {@link LocalJobs} on this node's engine, or
 * {@link RedisJobs} on a Redis stream that every node's worker reads.
 */
interface Jobs extends AutoCloseable {

  /** A slice of a job's SSE log: frames from an index, and whether the log is complete after them. */
  record Slice(List<String> frames, boolean complete) {}

  /** The JSON of a done job with the same request key, or null. */
  JsonObject doneFor(String key);

  /** Accepts a job whose video is stored under its id; returns its JSON (202), or throws an HttpError. */
  JsonObject submit(JobSpec spec);

  /** The tenant that submitted a job ("" when not recorded), or null when the job is unknown. */
  String owner(String id);

  /** A job's JSON, or null when unknown (never existed, or expired). */
  JsonObject status(String id);

  /** The job's SSE frames from {@code from}, waiting up to {@code millis} for new ones; null when unknown. */
  Slice events(String id, int from, long millis) throws InterruptedException;

  /** Cancels a job that is not finished; returns its JSON. */
  JsonObject cancel(String id);

  /**
   * The stored WAV of variant {@code variant} of a done job (throws HttpError 404/409 otherwise, and
   * 404 for a variant the job does not have).
   */
  Path audio(String id, int variant);

  /** The stored video with variant {@code variant}'s sound of a done job. */
  Path video(String id, int variant);

  /**
   * Whether a job's result files are still kept: false once its expiry has begun (or it is unknown).
   * A file written beside a job's results (a FLAC or M4A made on request) must check this after it is
   * in place, and delete it when false: expiry may have listed the directory before it arrived.
   */
  boolean kept(String id);

  /** Stops taking work and waits until {@code deadlineNanos} for running jobs; then cancels or hands them back. */
  void drain(long deadlineNanos) throws InterruptedException;

  /**
   * Why the job store cannot serve requests now (Redis unreachable), or null when it can; cheap
   * enough for every {@code /health/ready} and POST (implementations cache a probe briefly).
   */
  default String unavailable() {
    return null;
  }

  /** Deletes what is older than the retention. */
  void expire();

  @Override
  void close();
}
