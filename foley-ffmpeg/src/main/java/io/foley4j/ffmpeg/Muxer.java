package io.foley4j.ffmpeg;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_FLAG_GLOBAL_HEADER;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_AAC;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_FLAC;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_PCM_S16LE;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_alloc;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_rescale_ts;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_unref;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_alloc_context3;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_encoder;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_open2;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_parameters_copy;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_parameters_from_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_receive_packet;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_send_frame;
import static org.bytedeco.ffmpeg.global.avformat.AVFMT_GLOBALHEADER;
import static org.bytedeco.ffmpeg.global.avformat.AVIO_FLAG_WRITE;
import static org.bytedeco.ffmpeg.global.avformat.av_interleaved_write_frame;
import static org.bytedeco.ffmpeg.global.avformat.av_read_frame;
import static org.bytedeco.ffmpeg.global.avformat.av_write_trailer;
import static org.bytedeco.ffmpeg.global.avformat.avformat_alloc_output_context2;
import static org.bytedeco.ffmpeg.global.avformat.avformat_free_context;
import static org.bytedeco.ffmpeg.global.avformat.avformat_new_stream;
import static org.bytedeco.ffmpeg.global.avformat.avformat_write_header;
import static org.bytedeco.ffmpeg.global.avformat.avio_closep;
import static org.bytedeco.ffmpeg.global.avformat.avio_open;
import static org.bytedeco.ffmpeg.global.avutil.AVERROR_EOF;
import static org.bytedeco.ffmpeg.global.avutil.AV_NOPTS_VALUE;
import static org.bytedeco.ffmpeg.global.avutil.AV_SAMPLE_FMT_FLTP;
import static org.bytedeco.ffmpeg.global.avutil.AV_SAMPLE_FMT_S16;
import static org.bytedeco.ffmpeg.global.avutil.av_channel_layout_copy;
import static org.bytedeco.ffmpeg.global.avutil.av_channel_layout_default;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_alloc;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_get_buffer;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_make_writable;
import static org.bytedeco.ffmpeg.global.avutil.av_make_q;

import io.foley4j.FoleyException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVIOContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVDictionary;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.avutil.AVRational;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.ShortPointer;

/** One output file: mono audio encoded from floats, and optionally a video stream copied from a file. */
final class Muxer implements AutoCloseable {
  private final Path out;
  private final Path video;
  private AVFormatContext oc;
  private AVFormatContext in;
  private AVCodecContext enc;
  private AVFrame frame;
  private AVPacket pkt;
  private AVPacket apkt;
  private boolean opened; // oc.pb is open
  private int inVideo = -1;
  private AVStream vst;
  private AVStream ast;
  private long videoStart;

  Muxer(Path out, String format, Path video) {
    this.out = out;
    this.video = video;
    oc = new AVFormatContext(null);
    int r = avformat_alloc_output_context2(oc, null, format, out.toString());
    if (r < 0 || oc.isNull()) {
      oc = null;
      throw new FoleyException(FoleyException.Code.INTERNAL, "FFmpeg has no " + format + " muxer: "
          + FfmpegVideoSource.err(r));
    }
  }

  void write(FloatBuffer samples, int rate, FfmpegOutputs.AudioCodec codec, int bitrate) {
    if (video != null) {
      addVideo();
    }
    addAudio(rate, codec, bitrate);
    AVIOContext pb = new AVIOContext(null);
    int r = avio_open(pb, out.toString(), AVIO_FLAG_WRITE);
    if (r < 0) {
      throw new FoleyException(FoleyException.Code.IO, "cannot create " + out + ": " + FfmpegVideoSource.err(r));
    }
    oc.pb(pb);
    opened = true;
    r = avformat_write_header(oc, (AVDictionary) null);
    if (r < 0) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "the container cannot hold these streams ("
          + FfmpegVideoSource.err(r) + "): choose another output format");
    }
    pkt = av_packet_alloc();
    apkt = av_packet_alloc();
    frame = av_frame_alloc();
    int frameSize = enc.frame_size() > 0 ? enc.frame_size() : 1024;
    frame.nb_samples(frameSize);
    frame.format(enc.sample_fmt());
    av_channel_layout_copy(frame.ch_layout(), enc.ch_layout());
    frame.sample_rate(rate);
    check(av_frame_get_buffer(frame, 0), "allocating an audio frame");

    FloatBuffer x = samples.duplicate();
    x.rewind();
    float[] buf = new float[frameSize];
    short[] s16 = codec == FfmpegOutputs.AudioCodec.AAC ? null : new short[frameSize];
    long pos = 0;
    long total = x.remaining();
    if (in != null) {
      AVRational tb = in.streams(inVideo).time_base();
      while (true) {
        r = av_read_frame(in, pkt);
        if (r < 0) {
          if (r != AVERROR_EOF()) {
            throw FfmpegVideoSource.corrupt(video, "reading it for muxing failed (" + FfmpegVideoSource.err(r) + ")");
          }
          break;
        }
        try {
          if (pkt.stream_index() != inVideo) {
            continue;
          }
          long ts = pkt.dts() != AV_NOPTS_VALUE ? pkt.dts() : pkt.pts();
          double t = ts == AV_NOPTS_VALUE ? 0 : (ts - videoStart) * (double) tb.num() / tb.den();
          // keep the audio up to the video's decoding time, so the muxer never buffers much
          while (pos < total && pos / (double) rate <= t) {
            pos = encode(x, pos, total, buf, s16, frameSize);
          }
          shift(pkt, videoStart);
          av_packet_rescale_ts(pkt, tb, vst.time_base());
          pkt.stream_index(vst.index());
          pkt.pos(-1);
          check(av_interleaved_write_frame(oc, pkt), "writing a video packet");
        } finally {
          av_packet_unref(pkt);
        }
      }
    }
    while (pos < total) {
      pos = encode(x, pos, total, buf, s16, frameSize);
    }
    check(avcodec_send_frame(enc, null), "flushing the audio encoder");
    drain();
    check(av_write_trailer(oc), "finishing the file");
  }

  private static void shift(AVPacket p, long start) {
    if (p.pts() != AV_NOPTS_VALUE) {
      p.pts(p.pts() - start);
    }
    if (p.dts() != AV_NOPTS_VALUE) {
      p.dts(p.dts() - start);
    }
  }

  private long encode(FloatBuffer x, long pos, long total, float[] buf, short[] s16, int frameSize) {
    int n = (int) Math.min(frameSize, total - pos);
    check(av_frame_make_writable(frame), "preparing an audio frame");
    x.position((int) pos);
    x.get(buf, 0, n);
    frame.nb_samples(n);
    if (s16 == null) {
      new FloatPointer(frame.data(0)).put(buf, 0, n);
    } else {
      for (int i = 0; i < n; i++) {
        float v = buf[i];
        int q = Math.round((v >= 1f ? 1f : v <= -1f ? -1f : v) * 32767f);
        s16[i] = (short) q;
      }
      new ShortPointer(frame.data(0)).put(s16, 0, n);
    }
    frame.pts(pos);
    check(avcodec_send_frame(enc, frame), "encoding audio");
    drain();
    return pos + n;
  }

  private void drain() {
    while (true) {
      int r = avcodec_receive_packet(enc, apkt);
      if (r == -11 || r == AVERROR_EOF()) {
        return;
      }
      check(r, "encoding audio");
      apkt.stream_index(ast.index());
      av_packet_rescale_ts(apkt, enc.time_base(), ast.time_base());
      check(av_interleaved_write_frame(oc, apkt), "writing an audio packet");
      av_packet_unref(apkt);
    }
  }

  private void addVideo() {
    in = FfmpegVideoSource.openInput(video);
    inVideo = FfmpegVideoSource.videoStream(in);
    if (inVideo < 0) {
      throw new io.foley4j.UnsupportedVideoException(FoleyException.Code.UNSUPPORTED_VIDEO, "file " + video
          + " has no video stream to copy");
    }
    AVStream ist = in.streams(inVideo);
    videoStart = ist.start_time() != AV_NOPTS_VALUE ? ist.start_time() : 0;
    vst = avformat_new_stream(oc, null);
    check(avcodec_parameters_copy(vst.codecpar(), ist.codecpar()), "copying the video parameters");
    String ifmt = in.iformat().name().getString();
    String ofmt = oc.oformat().name().getString();
    boolean isoToIso = (ifmt.contains("mp4") || ifmt.contains("mov")) && (ofmt.equals("mp4") || ofmt.equals("mov"));
    if (!isoToIso) {
      vst.codecpar().codec_tag(0); // let the muxer choose its own tag for the codec
    }
    vst.time_base(ist.time_base());
    vst.avg_frame_rate(ist.avg_frame_rate());
  }

  private void addAudio(int rate, FfmpegOutputs.AudioCodec codec, int bitrate) {
    int id;
    int sampleFmt;
    switch (codec) {
      case AAC:
        id = AV_CODEC_ID_AAC;
        sampleFmt = AV_SAMPLE_FMT_FLTP;
        break;
      case FLAC:
        id = AV_CODEC_ID_FLAC;
        sampleFmt = AV_SAMPLE_FMT_S16;
        break;
      default:
        id = AV_CODEC_ID_PCM_S16LE;
        sampleFmt = AV_SAMPLE_FMT_S16;
        break;
    }
    AVCodec c = avcodec_find_encoder(id);
    if (c == null || c.isNull()) {
      throw new FoleyException(FoleyException.Code.INTERNAL, "this FFmpeg build has no " + codec + " encoder");
    }
    ast = avformat_new_stream(oc, null);
    enc = avcodec_alloc_context3(c);
    enc.sample_fmt(sampleFmt);
    enc.sample_rate(rate);
    av_channel_layout_default(enc.ch_layout(), 1);
    if (codec == FfmpegOutputs.AudioCodec.AAC) {
      enc.bit_rate(bitrate);
    }
    enc.time_base(av_make_q(1, rate));
    if ((oc.oformat().flags() & AVFMT_GLOBALHEADER) != 0) {
      enc.flags(enc.flags() | AV_CODEC_FLAG_GLOBAL_HEADER);
    }
    check(avcodec_open2(enc, c, (AVDictionary) null), "opening the " + codec + " encoder");
    check(avcodec_parameters_from_context(ast.codecpar(), enc), "setting up the audio stream");
    ast.time_base(enc.time_base());
  }

  private void check(int r, String what) {
    if (r < 0) {
      throw new FoleyException(FoleyException.Code.IO, what + " for " + out + " failed: " + FfmpegVideoSource.err(r));
    }
  }

  @Override
  public void close() {
    frame = AvFree.free(frame);
    pkt = AvFree.free(pkt);
    apkt = AvFree.free(apkt);
    enc = AvFree.free(enc);
    in = AvFree.closeInput(in);
    if (oc != null) {
      if (opened) {
        avio_closep(oc.pb());
        opened = false;
      }
      avformat_free_context(oc);
      oc = null;
    }
  }
}
