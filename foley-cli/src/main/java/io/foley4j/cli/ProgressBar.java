package io.foley4j.cli;

import io.foley4j.AudioChunk;
import io.foley4j.FoleyListener;
import io.foley4j.Progress;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Progress on stderr. On a terminal, a one-line bar redrawn with {@code \r} at most every 100 ms;
 * otherwise (a log file, a pipe) one plain line per finished segment, so logs stay readable.
 */
final class ProgressBar implements FoleyListener {
  /** How to show progress: {@code auto} picks {@code bar} on a terminal and {@code lines} otherwise. */
  enum Mode { AUTO, BAR, LINES, NONE }

  private final PrintStream err;
  private final Mode mode;
  private final long start = System.nanoTime();
  private long lastDraw;
  private int chunks;
  private int segmentsPrinted;
  private boolean drawn;

  ProgressBar(PrintStream err, Mode mode) {
    this.err = err;
    this.mode = mode == Mode.AUTO ? (stderrIsTerminal() ? Mode.BAR : Mode.LINES) : mode;
  }

  /**
   * Whether stderr is a terminal: there is a console (stdin and stdout are terminals) and, where
   * {@code /proc} tells, file descriptor 2 is a tty or pts device.
   */
  static boolean stderrIsTerminal() {
    if (System.console() == null) {
      return false;
    }
    try {
      String fd2 = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return fd2.startsWith("/dev/pts/") || fd2.startsWith("/dev/tty");
    } catch (Exception e) {
      return true; // no /proc: trust the console
    }
  }

  Mode mode() {
    return mode;
  }

  @Override
  public void onProgress(Progress p) {
    long now = System.nanoTime();
    if (mode == Mode.LINES) {
      while (segmentsPrinted < p.segmentsDone()) {
        segmentsPrinted++;
        err.printf("segment %d/%d done  %5.1f%%  %d chunk(s)  %.1fs%n", segmentsPrinted, p.segmentsTotal(),
            p.fraction() * 100, chunks, (now - start) / 1e9);
      }
      err.flush();
      return;
    }
    if (mode != Mode.BAR || (now - lastDraw < 100_000_000L && p.fraction() < 1.0)) {
      return;
    }
    lastDraw = now;
    drawn = true;
    int width = 30;
    int filled = (int) Math.round(p.fraction() * width);
    err.printf("\r[%s%s] %5.1f%%  segment %d/%d  %d chunk(s)  %.1fs ", "#".repeat(filled), " ".repeat(width - filled),
        p.fraction() * 100, Math.min(p.segmentsDone() + 1, p.segmentsTotal()), p.segmentsTotal(), chunks,
        (now - start) / 1e9);
    err.flush();
  }

  @Override
  public void onChunk(AudioChunk chunk) {
    chunks++;
  }

  /** Ends the bar's line; nothing in the other modes. */
  void finish() {
    if (drawn) {
      err.println();
    }
  }
}
