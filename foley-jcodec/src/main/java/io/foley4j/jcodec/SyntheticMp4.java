package io.foley4j.jcodec;

import io.foley4j.FoleyException;
import io.foley4j.video.SyntheticVideo;
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
 * Writes a {@link SyntheticVideo} as H.264 (jcodec's encoder, BT.601 limited range) in an MP4 whose
 * time scale is the frame rate's numerator, so 30000/1001 fps is exact.
 *
 * <pre>{@code
 * SyntheticMp4.write(SyntheticVideo.builder().size(160, 120).fps(30000, 1001).durationSeconds(10)
 *     .flash(2.0, 0.1, 0xFFFFFF).movingSquare(1.0, 4.0, 0xFF0000).build(), path);
 * }</pre>
 */
public final class SyntheticMp4 {
  private SyntheticMp4() {}

  /**
   * Encodes {@code video} as H.264 into an MP4 at {@code mp4}, written atomically (temporary file
   * and rename).
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if an argument is null; {@code IO} if the file
   *     cannot be written
   */
  public static void write(SyntheticVideo video, Path mp4) {
    if (video == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "video must not be null");
    }
    if (mp4 == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "output path must not be null");
    }
    int width = video.width();
    int height = video.height();
    int frameCount = video.frameCount();
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
        render(video, i, pic);
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
      o.commit(moov(video, sps, pps, offsets, sizes, keys));
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

  /** Fills jcodec's picture (signed samples: value - 128) with frame i. */
  private static void render(SyntheticVideo video, int i, Picture pic) {
    byte[] yp = pic.getPlaneData(0);
    byte[] up = pic.getPlaneData(1);
    byte[] vp = pic.getPlaneData(2);
    video.renderYuv420(i, yp, pic.getPlaneWidth(0), up, vp, pic.getPlaneWidth(1));
    toSigned(yp);
    toSigned(up);
    toSigned(vp);
  }

  private static void toSigned(byte[] plane) {
    for (int k = 0; k < plane.length; k++) {
      plane[k] = (byte) ((plane[k] & 0xff) - 128);
    }
  }

  private static byte[] ftyp() {
    BoxWriter w = new BoxWriter();
    int m = w.begin("ftyp");
    w.fourcc("isom").u32(0x200).fourcc("isom").fourcc("iso2").fourcc("avc1").fourcc("mp41");
    w.end(m);
    return w.toByteArray();
  }

  private static byte[] moov(SyntheticVideo v, byte[] sps, byte[] pps, long[] offsets, int[] sizes, List<Integer> keys) {
    int frameCount = v.frameCount();
    int fpsNum = v.fpsNumerator();
    int fpsDen = v.fpsDenominator();
    int width = v.width();
    int height = v.height();
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

}
