package io.foley4j.examples;

import io.foley4j.AudioChunk;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyListener;
import io.foley4j.FoleyRequest;
import io.foley4j.audio.WavFormat;
import io.foley4j.audio.WavWriter;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;

/**
 * Streaming: a {@link FoleyListener} receives the audio chunk by chunk, in time order, as segments
 * finish, and appends each chunk to a WAV file, so a host can play or upload audio before the job
 * is done. Usage: {@code StreamingExample [outDir]}; writes {@code streaming.wav}.
 */
public final class StreamingExample {
  private StreamingExample() {}

  public static void main(String[] args) {
    Path dir = Path.of(args.length > 0 ? args[0] : ".");
    Path clip = dir.resolve("streaming-clip.mp4"); // a 12 s clip: two segments of the reference model
    SyntheticMp4.write(SyntheticVideo.builder().size(160, 120).fps(25, 1).durationSeconds(12)
        .flash(2, 0.1, 0xFFFFFF).movingSquare(6, 10, 0xFF0000).build(), clip);
    Path wav = dir.resolve("streaming.wav");

    try (ModelBundle bundle = ReferenceModel.bundle();
        FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build();
        WavWriter out = WavWriter.open(wav, bundle.manifest().audio().sampleRate(), WavFormat.PCM_16)) {
      FoleyRequest request = FoleyRequest.builder(clip).prompt("footsteps on gravel").steps(4).seed(7).build();
      FoleyJob job = engine.submit(request, new FoleyListener() {
        @Override
        public void onChunk(AudioChunk chunk) { // one at a time per job, in time order, holding no foley4j lock
          float[] samples = chunk.toArray();
          out.append(samples, 0, samples.length);
          System.out.printf("chunk %d at %.2f s: %d samples%s%n", chunk.index(), chunk.startSeconds(),
              chunk.length(), chunk.isLast() ? " (last)" : "");
        }
      });
      job.result().join(); // completes after the last onChunk
    }
    System.out.println("wrote " + wav);
  }
}
