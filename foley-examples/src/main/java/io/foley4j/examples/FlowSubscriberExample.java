package io.foley4j.examples;

import io.foley4j.AudioChunk;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyRequest;
import io.foley4j.audio.WavFormat;
import io.foley4j.audio.WavWriter;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

/**
 * Reactive streams: {@link FoleyJob#chunks()} is a {@link Flow.Publisher} of the job's chunks. This
 * subscriber asks for one chunk at a time (back-pressure) and writes each to a WAV file. Usage:
 * {@code FlowSubscriberExample [outDir]}; writes {@code flow.wav}.
 */
public final class FlowSubscriberExample {
  private FlowSubscriberExample() {}

  public static void main(String[] args) {
    Path dir = Path.of(args.length > 0 ? args[0] : ".");
    Path clip = dir.resolve("flow-clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(160, 120).fps(25, 1).durationSeconds(12)
        .flash(3, 0.1, 0xFFFFFF).flash(9, 0.1, 0xFFFFFF).build(), clip);
    Path wav = dir.resolve("flow.wav");

    try (ModelBundle bundle = ReferenceModel.bundle();
        FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build();
        WavWriter out = WavWriter.open(wav, bundle.manifest().audio().sampleRate(), WavFormat.PCM_16)) {
      FoleyJob job = engine.submit(FoleyRequest.builder(clip).prompt("a door knocks").steps(4).seed(1).build());
      CompletableFuture<Long> done = new CompletableFuture<>();
      job.chunks().subscribe(new Flow.Subscriber<AudioChunk>() { // sees every chunk from the first
        private Flow.Subscription subscription;

        @Override
        public void onSubscribe(Flow.Subscription s) {
          subscription = s;
          s.request(1);
        }

        @Override
        public void onNext(AudioChunk chunk) {
          float[] samples = chunk.toArray();
          out.append(samples, 0, samples.length);
          System.out.printf("chunk %d: %d samples%n", chunk.index(), chunk.length());
          subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
          done.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
          done.complete(out.samplesWritten());
        }
      });
      System.out.println("wrote " + done.join() + " samples to " + wav);
    }
  }
}
