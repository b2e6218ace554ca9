package io.foley4j.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs each example's main and checks what it wrote. */
class ExamplesTest {
  @TempDir
  Path dir;

  @Test
  void streamingWritesEveryChunkInTimeOrder() throws IOException {
    String out = run(StreamingExample::main);
    assertEquals(12.0, seconds(dir.resolve("streaming.wav")), 1e-9);
    assertChunksInOrder(out);
    assertTrue(out.contains("(last)"), out);
  }

  @Test
  void aFlowSubscriberReceivesEveryChunkInOrder() throws IOException {
    String out = run(FlowSubscriberExample::main);
    Path wav = dir.resolve("flow.wav");
    assertEquals(12.0, seconds(wav), 1e-9);
    assertChunksInOrder(out);
    assertTrue(out.contains("wrote " + samples(wav) + " samples"), out);
  }

  @Test
  void aRepeatedRequestIsAnsweredFromTheResultCacheAndAnotherPromptReusesTheFeatures() throws IOException {
    run(CachesExample::main);
    byte[] first = Files.readAllBytes(dir.resolve("first.wav"));
    assertArrayEquals(first, Files.readAllBytes(dir.resolve("repeated.wav")), "the same audio");
    byte[] other = Files.readAllBytes(dir.resolve("other-prompt.wav"));
    assertEquals(first.length, other.length);
    assertFalse(Arrays.equals(first, other), "another prompt, other audio");
    assertEquals(4.0, seconds(dir.resolve("first.wav")), 1e-9);
    try (Stream<Path> files = Files.walk(dir.resolve("feature-cache"))) {
      assertTrue(files.anyMatch(Files::isRegularFile), "the disk feature cache holds the clip's features");
    }
  }

  @Test
  void twoDevicesGiveTheWholeClip() throws IOException {
    run(DevicesExample::main);
    Path wav = dir.resolve("devices.wav");
    assertEquals(20.0, seconds(wav), 1e-9);
    assertTrue(peak(wav) > 0, "not silent: the square moves for 16 s");
  }

  @Test
  void aGpuBackendFallsBackToTheCpuWhereThereIsNoGpu() throws IOException {
    run(GpuFallbackExample::main);
    assertEquals(3.0, seconds(dir.resolve("gpu-or-cpu.wav")), 1e-9);
  }

  private String run(Consumer<String[]> main) {
    PrintStream old = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      main.accept(new String[] {dir.toString()});
    } finally {
      System.setOut(old);
    }
    String out = bytes.toString(StandardCharsets.UTF_8);
    old.print(out);
    return out;
  }

  private static void assertChunksInOrder(String out) {
    Matcher m = Pattern.compile("(?m)^chunk (\\d+)").matcher(out);
    List<Integer> seen = m.results().map(r -> Integer.parseInt(r.group(1))).toList();
    assertTrue(seen.size() >= 2, "a 12 s clip comes in several chunks: " + out);
    for (int i = 0; i < seen.size(); i++) {
      assertEquals(i, seen.get(i), "chunk order: " + seen);
    }
  }

  /** 16-bit mono WAV: its samples (the data chunk's size / 2). */
  private static long samples(Path wav) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(wav)).order(ByteOrder.LITTLE_ENDIAN);
    return dataSize(b) / 2;
  }

  private static double seconds(Path wav) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(wav)).order(ByteOrder.LITTLE_ENDIAN);
    int rate = b.getInt(24);
    return dataSize(b) / 2 / (double) rate;
  }

  private static int peak(Path wav) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(wav)).order(ByteOrder.LITTLE_ENDIAN);
    int start = dataStart(b);
    int peak = 0;
    for (int i = start; i + 1 < b.limit(); i += 2) {
      peak = Math.max(peak, Math.abs(b.getShort(i)));
    }
    return peak;
  }

  private static int dataSize(ByteBuffer b) {
    return b.getInt(dataStart(b) - 4);
  }

  private static int dataStart(ByteBuffer b) {
    int p = 12;
    while (p + 8 <= b.limit()) {
      String id = new String(new byte[] {b.get(p), b.get(p + 1), b.get(p + 2), b.get(p + 3)}, StandardCharsets.US_ASCII);
      int size = b.getInt(p + 4);
      if (id.equals("data")) {
        return p + 8;
      }
      p += 8 + size + (size & 1);
    }
    throw new AssertionError("no data chunk");
  }
}
