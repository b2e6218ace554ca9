package io.foley4j.video;

import io.foley4j.FoleyException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jcodec.codecs.h264.H264Encoder;
import org.jcodec.common.VideoEncoder;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Rect;

/**
 * A generated test video with events at exactly known times: a background colour, whole-frame
 * "flashes" and squares moving left to right, encoded as H.264 (jcodec's encoder, BT.601 limited
 * range) in an MP4 whose time scale is the frame rate's numerator, so 30000/1001 fps is exact.
 *
 * <pre>{@code
 * SyntheticVideo.builder().size(160, 120).fps(30000, 1001).durationSeconds(10)
 *     .flash(2.0, 0.1, 0xFFFFFF).movingSquare(1.0, 4.0, 0xFF0000).build().write(path);
 * }</pre>
 *
 * <p>Frame i has presentation time {@code i * fpsDen / fpsNum} seconds; a flash covers the frames
 * whose time lies in {@code [start, start + duration)}. Immutable.
 */
public final class SyntheticVideo {
  private final int width;
  private final int height;
  private final int fpsNum;
  private final int fpsDen;
  private final int frameCount;
  private final int background;
  private final List<double[]> flashes;
  private final List<double[]> squares;

  private SyntheticVideo(Builder b) {
    this.width = b.width;
    this.height = b.height;
    this.fpsNum = b.fpsNum;
    this.fpsDen = b.fpsDen;
    this.frameCount = (int) Math.round(b.duration * b.fpsNum / b.fpsDen);
    this.background = b.background;
    this.flashes = copy(b.flashes);
    this.squares = copy(b.squares);
  }

  private static List<double[]> copy(List<double[]> in) {
    List<double[]> out = new ArrayList<>();
    for (double[] d : in) {
      out.add(d.clone());
    }
    return List.copyOf(out);
  }

  /** A new builder (defaults: 160×120, 30 fps, 2 s, black background, no events). */
  public static Builder builder() {
    return new Builder();
  }

  /** Number of frames: {@code round(duration * fps)}. */
  public int frameCount() {
    return frameCount;
  }

  /** Presentation time of frame {@code i} in seconds. */
  public double frameTime(int i) {
    return i * (double) fpsDen / fpsNum;
  }

  /** The colour (0xRRGGBB) that fills frame {@code i} where no square is drawn. */
  public int frameColour(int i) {
    double t = frameTime(i);
    int c = background;
    for (double[] f : flashes) {
      if (t >= f[0] - 1e-9 && t < f[0] + f[1] - 1e-9) {
        c = (int) f[2];
      }
    }
    return c;
  }

  /**
   * Encodes the video as H.264 into an MP4 at {@code mp4}, written atomically (temporary file and
   * rename).
   *
   * @throws FoleyException {@code IO} if the file cannot be written
   */
  public void write(Path mp4) {
    if (mp4 == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "output path must not be null");
    }
    int w16 = (width + 15) & ~15;
    int h16 = (height + 15) & ~15;
    H264Encoder enc = H264Encoder.createH264Encoder();
    Picture pic = Picture.createCropped(w16, h16, ColorSpace.YUV420J, new Rect(0, 0, width, height));
    ByteBuffer out = ByteBuffer.allocate(Math.max(1 << 16, w16 * h16 * 4));
    byte[] sps = null;
    byte[] pps = null;
    int[] sizes = new int[frameCount];
    long[] offsets = new long[frameCount];
    List<Integer> keys = new ArrayList<>();
    try (Mp4Output o = new Mp4Output(mp4, ftyp())) {
      for (int i = 0; i < frameCount; i++) {
        render(i, pic);
        out.clear();
        VideoEncoder.EncodedFrame ef = enc.encodeFrame(pic, out);
        ByteBuffer data = ef.getData();
        byte[] annexB = new byte[data.remaining()];
        data.get(annexB);
        BoxWriter sample = new BoxWriter();
        for (byte[] nal : splitAnnexB(annexB)) {
          int type = nal[0] & 0x1f;
          if (type == 7) {
            sps = sps == null ? nal : sps;
          } else if (type == 8) {
            pps = pps == null ? nal : pps;
          } else {
            sample.u32(nal.length).bytes(nal);
          }
        }
        if (ef.isKeyFrame()) {
          keys.add(i + 1);
        }
        offsets[i] = o.position();
        sizes[i] = sample.length();
        o.write(ByteBuffer.wrap(sample.toByteArray()));
      }
      if (sps == null || pps == null) {
        throw new FoleyException(FoleyException.Code.INTERNAL,
            "the H.264 encoder produced no SPS/PPS");
      }
      o.commit(moov(sps, pps, offsets, sizes, keys));
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot write " + mp4 + ": "
          + e.getMessage(), e);
    } catch (FoleyException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new FoleyException(FoleyException.Code.INTERNAL, "encoding the synthetic video failed: "
          + e, e);
    }
  }

  private static byte[] ftyp() {
    BoxWriter w = new BoxWriter();
    int m = w.begin("ftyp");
    w.fourcc("isom").u32(0x200).fourcc("isom").fourcc("iso2").fourcc("avc1").fourcc("mp41");
    w.end(m);
    return w.toByteArray();
  }

  private byte[] moov(byte[] sps, byte[] pps, long[] offsets, int[] sizes, List<Integer> keys) {
    long duration = (long) frameCount * fpsDen;
    BoxWriter w = new BoxWriter();
    int moov = w.begin("moov");
    w.mvhd(fpsNum, duration, 2);
    int trak = w.begin("trak");
    w.tkhd(1, duration, false, (long) width << 16, (long) height << 16);
    int mdia = w.begin("mdia");
    w.mdhd(fpsNum, duration);
    w.hdlr("vide", false);
    int minf = w.begin("minf");
    w.vmhd();
    w.dinf();
    int stbl = w.begin("stbl");
    int stsd = w.beginFull("stsd", 0, 0);
    w.u32(1);
    writeAvc1(w, width, height, sps, pps);
    w.end(stsd);
    int stts = w.beginFull("stts", 0, 0);
    w.u32(1).u32(frameCount).u32(fpsDen);
    w.end(stts);
    int stss = w.beginFull("stss", 0, 0);
    w.u32(keys.size());
    for (int k : keys) {
      w.u32(k);
    }
    w.end(stss);
    w.stscUniform(frameCount, 1);
    w.stsz(sizes, frameCount);
    w.chunkOffsets(offsets, frameCount);
    w.end(stbl);
    w.end(minf);
    w.end(mdia);
    w.end(trak);
    w.end(moov);
    return w.toByteArray();
  }

  /** An avc1 sample entry with its avcC configuration record. */
  static void writeAvc1(BoxWriter w, int width, int height, byte[] sps, byte[] pps) {
    int e = w.begin("avc1");
    w.zeros(6).u16(1).u16(0).u16(0).zeros(12).u16(width).u16(height);
    w.u32(0x00480000).u32(0x00480000).u32(0).u16(1);
    w.zeros(32).u16(0x18).u16(0xffff);
    int c = w.begin("avcC");
    int profile = sps[1] & 0xff;
    w.u8(1).u8(profile).u8(sps[2] & 0xff).u8(sps[3] & 0xff).u8(0xff).u8(0xe1);
    w.u16(sps.length).bytes(sps);
    w.u8(1).u16(pps.length).bytes(pps);
    if (profile == 100 || profile == 110 || profile == 122 || profile == 144) {
      w.u8(0xfc | 1).u8(0xf8).u8(0xf8).u8(0);
    }
    w.end(c);
    w.end(e);
  }

  /** Splits an Annex-B byte stream into NAL units (without start codes). */
  static List<byte[]> splitAnnexB(byte[] d) {
    List<byte[]> out = new ArrayList<>();
    int start = -1;
    int i = 0;
    while (i + 2 < d.length) {
      if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) {
        if (start >= 0) {
          int e = i;
          while (e > start && d[e - 1] == 0) {
            e--;
          }
          if (e > start) {
            out.add(Arrays.copyOfRange(d, start, e));
          }
        }
        i += 3;
        start = i;
      } else {
        i++;
      }
    }
    if (start >= 0 && start < d.length) {
      out.add(Arrays.copyOfRange(d, start, d.length));
    }
    return out;
  }

  /** Fills the picture (jcodec's signed samples: value - 128) for frame i. */
  private void render(int i, Picture pic) {
    int c = frameColour(i);
    byte[] yp = pic.getPlaneData(0);
    byte[] up = pic.getPlaneData(1);
    byte[] vp = pic.getPlaneData(2);
    int[] yuv = yuv(c);
    Arrays.fill(yp, (byte) (yuv[0] - 128));
    Arrays.fill(up, (byte) (yuv[1] - 128));
    Arrays.fill(vp, (byte) (yuv[2] - 128));
    double t = frameTime(i);
    int stride = pic.getPlaneWidth(0);
    int cstride = pic.getPlaneWidth(1);
    for (double[] s : squares) {
      if (t < s[0] - 1e-9 || t >= s[1] - 1e-9 || c != background) {
        continue;
      }
      int side = Math.max(2, (Math.min(width, height) / 4) & ~1);
      double frac = (t - s[0]) / (s[1] - s[0]);
      int x0 = ((int) Math.round(frac * (width - side))) & ~1;
      int y0 = ((height - side) / 2) & ~1;
      int[] q = yuv((int) s[2]);
      for (int y = y0; y < y0 + side; y++) {
        Arrays.fill(yp, y * stride + x0, y * stride + x0 + side, (byte) (q[0] - 128));
      }
      for (int y = y0 / 2; y < (y0 + side) / 2; y++) {
        Arrays.fill(up, y * cstride + x0 / 2, y * cstride + (x0 + side) / 2, (byte) (q[1] - 128));
        Arrays.fill(vp, y * cstride + x0 / 2, y * cstride + (x0 + side) / 2, (byte) (q[2] - 128));
      }
    }
  }

  /** 0xRRGGBB to BT.601 limited-range Y, Cb, Cr. */
  static int[] yuv(int rgb) {
    double r = (rgb >> 16) & 0xff;
    double g = (rgb >> 8) & 0xff;
    double b = rgb & 0xff;
    double y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
    double cb = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
    double cr = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
    return new int[] {clamp(y), clamp(cb), clamp(cr)};
  }

  private static int clamp(double v) {
    return (int) Math.max(0, Math.min(255, Math.round(v)));
  }

  /** Builder of {@link SyntheticVideo}; each setter validates its argument. */
  public static final class Builder {
    private int width = 160;
    private int height = 120;
    private int fpsNum = 30;
    private int fpsDen = 1;
    private double duration = 2.0;
    private int background = 0x000000;
    private final List<double[]> flashes = new ArrayList<>();
    private final List<double[]> squares = new ArrayList<>();

    private Builder() {}

    /** Frame size: even numbers in 16..4096. */
    public Builder size(int width, int height) {
      if (width < 16 || height < 16 || width > 4096 || height > 4096 || width % 2 != 0
          || height % 2 != 0) {
        throw invalid("size must be even and within 16..4096, got " + width + "x" + height);
      }
      this.width = width;
      this.height = height;
      return this;
    }

    /** Frame rate as a rational, e.g. {@code fps(30000, 1001)}. */
    public Builder fps(int numerator, int denominator) {
      if (numerator <= 0 || denominator <= 0 || numerator / (double) denominator > 240) {
        throw invalid("fps must be a positive rational up to 240, got " + numerator + "/"
            + denominator);
      }
      this.fpsNum = numerator;
      this.fpsDen = denominator;
      return this;
    }

    /** Duration in seconds; the frame count is {@code round(duration * fps)}, at least 1. */
    public Builder durationSeconds(double seconds) {
      if (!(seconds > 0) || seconds > 24 * 3600) {
        throw invalid("duration must be in (0, 86400] seconds, got " + seconds);
      }
      this.duration = seconds;
      return this;
    }

    /** Background colour, 0xRRGGBB. */
    public Builder background(int rgb) {
      this.background = rgb & 0xffffff;
      return this;
    }

    /** The whole frame shows {@code rgb} for the frames whose time is in [start, start+dur). */
    public Builder flash(double startSeconds, double durationSeconds, int rgb) {
      if (!(startSeconds >= 0) || !(durationSeconds > 0) || Double.isInfinite(startSeconds)
          || Double.isInfinite(durationSeconds)) {
        throw invalid("flash needs start >= 0 and duration > 0, got " + startSeconds + ", "
            + durationSeconds);
      }
      flashes.add(new double[] {startSeconds, durationSeconds, rgb & 0xffffff});
      return this;
    }

    /** A square that moves from the left edge to the right edge during [start, end). */
    public Builder movingSquare(double startSeconds, double endSeconds, int rgb) {
      if (!(startSeconds >= 0) || !(endSeconds > startSeconds) || Double.isInfinite(endSeconds)) {
        throw invalid("moving square needs 0 <= start < end, got " + startSeconds + ", "
            + endSeconds);
      }
      squares.add(new double[] {startSeconds, endSeconds, rgb & 0xffffff});
      return this;
    }

    /** Builds the description; the builder stays usable. */
    public SyntheticVideo build() {
      if (Math.round(duration * fpsNum / fpsDen) < 1) {
        throw invalid("duration " + duration + " s at " + fpsNum + "/" + fpsDen
            + " fps gives no frames");
      }
      return new SyntheticVideo(this);
    }

    private static FoleyException invalid(String msg) {
      return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, msg);
    }
  }
}
