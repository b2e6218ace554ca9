package io.foley4j.jcodec;

import io.foley4j.FoleyException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Puts generated audio next to a source video without re-encoding the video.
 *
 * <p>The output is a QuickTime MOV (brand {@code qt  }) holding the source's video track (its
 * sample description including the avcC SPS/PPS and its edit list as is; its track header's flags,
 * layer, alternate group, volume, matrix (the rotation of phone videos), width and height, and the
 * movie header's matrix, copied; its timing tables with B-frame composition offsets and its sync
 * samples written from the parsed samples, so a fragmented source becomes one plain sample table)
 * and a mono 16-bit little-endian PCM ({@code sowt}) audio track. The file is written to a
 * temporary file and renamed into place.
 */
final class Remux {
  private static final int MAX_SAMPLE_RATE = 65535;

  private Remux() {}

  /**
   * Writes {@code outMov}: the video track of {@code sourceVideo} plus {@code monoSamples} (floats
   * in [-1, 1], clipped) as 16-bit PCM at {@code sampleRate}.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} for null/empty/non-finite samples, a sample
   *     rate outside 1..65535 or an output equal to the source; {@code IO} if reading or writing
   *     fails
   * @throws io.foley4j.UnsupportedVideoException if the source is not a usable MP4/MOV video
   * @throws FoleyException {@code INVALID_ARGUMENT} if the source is not a regular file (a pipe,
   *     device or directory)
   */
  static void withAudio(Path sourceVideo, float[] monoSamples, int sampleRate, Path outMov) {
    if (sourceVideo == null || outMov == null) {
      throw invalid("source and output paths must not be null");
    }
    if (monoSamples == null || monoSamples.length == 0) {
      throw invalid("audio samples must not be null or empty");
    }
    if (sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE) {
      throw invalid("sample rate must be in 1.." + MAX_SAMPLE_RATE + " Hz, got " + sampleRate);
    }
    for (int i = 0; i < monoSamples.length; i++) {
      if (!Float.isFinite(monoSamples[i])) {
        throw invalid("audio sample " + i + " is " + monoSamples[i]);
      }
    }
    if (sourceVideo.toAbsolutePath().normalize().equals(outMov.toAbsolutePath().normalize())) {
      throw invalid("the output must not overwrite the source video " + sourceVideo);
    }
    Mp4Movie movie = Mp4Movie.read(sourceVideo);
    Mp4Movie.VideoTrack v = movie.video;
    if (v.sampleCount == 0) {
      throw Mp4Movie.corrupt(sourceVideo, "the video track has zero frames");
    }
    int n = v.sampleCount;
    long[] newOffsets = new long[n];
    long audioOffset;
    try (FileChannel src = FileChannel.open(sourceVideo, StandardOpenOption.READ);
        Mp4Output out = new Mp4Output(outMov, ftyp())) {
      // Video samples in decode order, coalescing runs that are contiguous in the source.
      int i = 0;
      while (i < n) {
        int j = i + 1;
        long runLen = v.sizes[i];
        while (j < n && v.offsets[j] == v.offsets[j - 1] + v.sizes[j - 1]) {
          runLen += v.sizes[j];
          j++;
        }
        long base = out.position();
        long rel = 0;
        for (int k = i; k < j; k++) {
          newOffsets[k] = base + rel;
          rel += v.sizes[k];
        }
        out.copyFrom(src, v.offsets[i], runLen);
        i = j;
      }
      audioOffset = out.position();
      ByteBuffer pcm = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      for (float s : monoSamples) {
        if (!pcm.hasRemaining()) {
          pcm.flip();
          out.write(pcm);
          pcm.clear();
        }
        pcm.putShort(toPcm16(s));
      }
      pcm.flip();
      out.write(pcm);
      out.commit(moov(movie, newOffsets, audioOffset, monoSamples.length, sampleRate));
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "remuxing " + sourceVideo + " into "
          + outMov + " failed: " + e.getMessage(), e);
    }
  }

  /** The 16-bit value written for a float sample: clipped to [-1, 1], times 32767, rounded. */
  static short toPcm16(float s) {
    float c = Math.max(-1f, Math.min(1f, s));
    return (short) Math.round(c * 32767f);
  }

  private static FoleyException invalid(String msg) {
    return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "Remux.withAudio: " + msg);
  }

  private static byte[] ftyp() {
    BoxWriter w = new BoxWriter();
    int m = w.begin("ftyp");
    w.fourcc("qt  ").u32(0x200).fourcc("qt  ");
    w.end(m);
    return w.toByteArray();
  }

  private static byte[] moov(Mp4Movie movie, long[] videoOffsets, long audioOffset,
      int audioSamples, int sampleRate) {
    Mp4Movie.VideoTrack v = movie.video;
    long movieTs = movie.movieTimescale;
    long videoDur;
    if (v.durationTimescale == movieTs) {
      videoDur = v.durationTicks;
    } else {
      videoDur = ceilDiv(v.durationTicks * movieTs, v.durationTimescale);
    }
    long audioDur = ceilDiv((long) audioSamples * movieTs, sampleRate);
    BoxWriter w = new BoxWriter();
    int moov = w.begin("moov");
    w.mvhd(movieTs, Math.max(videoDur, audioDur), 3, movieMatrix(movie.moov.child("mvhd")));

    // Video track: the source's header fields, sample description and edit list; sample tables
    // written from the parsed samples (so a fragmented source becomes one plain table).
    int trak = w.begin("trak");
    w.tkhd(1, videoDur, (int) (v.tkhd.u32(0) & 0xffffff), tkhdDisplayFields(v.tkhd));
    if (v.edts != null) {
      w.bytes(v.edts.copyBytes());
    }
    int mdia = w.begin("mdia");
    w.mdhd(v.mediaTimescale, v.mediaDuration, v.mdhd.u16(v.mdhd.u8(0) == 1 ? 32 : 20));
    w.hdlr("vide", true);
    int minf = w.begin("minf");
    w.vmhd();
    w.dinf();
    int stbl = w.begin("stbl");
    w.bytes(v.stsd.copyBytes());
    w.stts(v.dts, v.dtsEnd, v.sampleCount);
    boolean reordered = false;
    boolean allSync = true;
    for (int k = 0; k < v.sampleCount; k++) {
      reordered |= v.ctsOffsets[k] != 0;
      allSync &= v.sync[k];
    }
    if (reordered) {
      w.ctts(v.ctsOffsets, v.sampleCount);
    }
    if (!allSync) {
      w.stss(v.sync, v.sampleCount);
    }
    w.stscUniform(v.sampleCount, 1);
    w.stsz(v.sizes, v.sampleCount);
    w.chunkOffsets(videoOffsets, v.sampleCount);
    w.end(stbl);
    w.end(minf);
    w.end(mdia);
    w.end(trak);

    // Audio track: mono s16le PCM, one chunk per second.
    trak = w.begin("trak");
    w.tkhd(2, audioDur, true, 0, 0);
    mdia = w.begin("mdia");
    w.mdhd(sampleRate, audioSamples);
    w.hdlr("soun", true);
    minf = w.begin("minf");
    w.smhd();
    w.dinf();
    stbl = w.begin("stbl");
    int stsd = w.beginFull("stsd", 0, 0);
    w.u32(1);
    int sowt = w.begin("sowt");
    w.zeros(6).u16(1); // reserved, data reference index
    w.u16(0).u16(0).u32(0); // sound description version 0, revision, vendor
    w.u16(1).u16(16).u16(0).u16(0); // channels, bits per sample, compression id, packet size
    w.u32((long) sampleRate << 16); // 16.16 fixed point
    w.end(sowt);
    w.end(stsd);
    int stts = w.beginFull("stts", 0, 0);
    w.u32(1).u32(audioSamples).u32(1);
    w.end(stts);
    w.stscUniform(audioSamples, sampleRate);
    int stsz = w.beginFull("stsz", 0, 0);
    w.u32(2).u32(audioSamples);
    w.end(stsz);
    int chunks = (int) ((audioSamples + (long) sampleRate - 1) / sampleRate);
    long[] offs = new long[chunks];
    for (int c = 0; c < chunks; c++) {
      offs[c] = audioOffset + 2L * c * sampleRate;
    }
    w.chunkOffsets(offs, chunks);
    w.end(stbl);
    w.end(minf);
    w.end(mdia);
    w.end(trak);
    w.end(moov);
    return w.toByteArray();
  }

  /** The movie header's display matrix (9 values as stored). */
  private static int[] movieMatrix(Box mvhd) {
    int at = mvhd.u8(0) == 1 ? 48 : 36;
    int[] m = new int[9];
    for (int k = 0; k < 9; k++) {
      m[k] = mvhd.s32(at + 4 * k);
    }
    return m;
  }

  /**
   * The source track header's fields after its duration: layer, alternate group, volume, matrix
   * (rotation of phone videos), width and height, copied as stored.
   */
  private static byte[] tkhdDisplayFields(Box tkhd) {
    int at = tkhd.u8(0) == 1 ? 36 : 24;
    byte[] out = new byte[BoxWriter.TKHD_DISPLAY_BYTES];
    tkhd.s32(at + out.length - 4); // bounds check: the whole header is present
    System.arraycopy(tkhd.buf, tkhd.payload + at, out, 0, out.length);
    return out;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
