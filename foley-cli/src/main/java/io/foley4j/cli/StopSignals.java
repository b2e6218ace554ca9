package io.foley4j.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import sun.misc.Signal;

/**
 * Turns SIGTERM, SIGINT and SIGHUP into a request to stop, instead of the JVM's default (starting
 * its shutdown at once). {@code foley serve} needs this: ONNX Runtime's Java library registers a
 * shutdown hook of its own ({@code OrtEnvironment$OrtEnvCloser}, added in the environment's
 * constructor, with no switch to turn it off) that frees the native environment, and JVM shutdown
 * hooks run concurrently, in no order. A drain run from a shutdown hook therefore races that hook:
 * a model running (or a session closed) after the environment is freed crashes the JVM (SIGSEGV in
 * libonnxruntime.so). With these handlers the service drains and closes every session first, and
 * the JVM's shutdown (and ORT's hook) starts only when {@code main} returns.
 */
final class StopSignals {
  private static final Logger LOG = Logger.getLogger(StopSignals.class.getName());
  private static final String[] NAMES = {"TERM", "INT", "HUP"};

  private StopSignals() {}

  /**
   * Calls {@code onStop} with the signal's name ("TERM") on the signal's own thread (it must not
   * block) for each of the signals that could be handled, and returns their names; a signal the JVM or the OS keeps (for example
   * with {@code -Xrs}, or one ignored by the parent) is left as it was.
   */
  static List<String> install(Consumer<String> onStop) {
    List<String> installed = new ArrayList<>();
    for (String name : NAMES) {
      try {
        Signal.handle(new Signal(name), s -> onStop.accept(s.getName()));
        installed.add(name);
      } catch (IllegalArgumentException | UnsupportedOperationException e) {
        LOG.log(Level.FINE, "SIG" + name + " stays with the JVM: " + e.getMessage());
      }
    }
    return installed;
  }
}
