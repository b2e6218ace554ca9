package io.foley4j.gpu;

import java.util.Objects;

/**
 * The outcome of one part of a probe: a status and a message that says what was found, or what is
 * missing and how to fix it.
 */
public record GpuCheck(String what, ProbeStatus status, String message) {
  public GpuCheck {
    Objects.requireNonNull(what, "what");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(message, "message");
  }

  public boolean ok() {
    return status == ProbeStatus.OK;
  }

  static GpuCheck ok(String what, String message) {
    return new GpuCheck(what, ProbeStatus.OK, message);
  }

  @Override
  public String toString() {
    return what + ": " + status + " (" + message + ")";
  }
}
