package io.foley4j;

import io.foley4j.jcodec.JcodecVideoSources;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.ResizeFilter;
import io.foley4j.video.ResizeMode;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSources;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manifest's frame-picking and resizing rules reach the encoders: FeatureExtractor samples by
 * the frame rule and passes each stream's filter to toTensor.
 */
class ManifestRulesWiringTest {
  @TempDir Path tmp;

  private Path bundleWith(String visualFilter, String syncFilter) throws Exception {
    Path dir = tmp.resolve("bundle-" + visualFilter + "-" + syncFilter);
    TestSupport.copyReferenceBundle(dir);
    Path manifest = dir.resolve(ModelBundle.MANIFEST);
    JsonObject o = JsonParser.parseString(Files.readString(manifest)).getAsJsonObject();
    o.getAsJsonObject("visual").addProperty("filter", visualFilter);
    o.getAsJsonObject("sync").addProperty("filter", syncFilter);
    Files.writeString(manifest, o.toString(), StandardCharsets.UTF_8);
    return dir;
  }

  private static float[][] firstInputs(Path bundleDir, Path video) {
    InterceptingBackend backend = new InterceptingBackend();
    AtomicReference<float[]> pixels = new AtomicReference<>();
    AtomicReference<float[]> frames = new AtomicReference<>();
    // the first call of each encoder that carries a picture (an engine may warm a stage up first)
    backend.fail = (stage, in) -> {
      if (stage == Stage.VISUAL_ENCODER && !blank(in.get("pixels"))) {
        pixels.compareAndSet(null, in.get("pixels").floats().clone());
      } else if (stage == Stage.SYNC_ENCODER && !blank(in.get("frames"))) {
        frames.compareAndSet(null, in.get("frames").floats().clone());
      }
      return false;
    };
    try (ModelBundle b = ModelBundle.open(bundleDir);
        FoleyEngine engine = FoleyEngine.builder().bundle(b).backend(backend).build()) {
      engine.generate(FoleyRequest.builder(video).prompt("whoosh").steps(1).build());
    }
    assertNotNull(pixels.get());
    assertNotNull(frames.get());
    return new float[][] {pixels.get(), frames.get()};
  }

  @Test
  void visualAndSyncFramesAreResizedWithTheManifestsFilter() throws Exception {
    Path video = tmp.resolve("square.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(640, 360).durationSeconds(0.5).background(0x204060)
        .movingSquare(0, 0.5, 0xffe080).build(), video);
    DecodedFrame first;
    try (VideoSource s = JcodecVideoSources.jcodec().open(video)) {
      first = s.next();
    }
    Path pil = bundleWith("pil-bilinear", "pil-bicubic");
    BundleManifest m;
    try (ModelBundle b = ModelBundle.open(pil)) {
      m = b.manifest();
    }
    assertEquals(ResizeFilter.PIL_BILINEAR, m.visual().resizeFilter());
    assertEquals(ResizeFilter.PIL_BICUBIC, m.sync().resizeFilter());
    int vs = m.visual().size();
    int ss = m.sync().size();
    float[] wantV = new float[3 * vs * vs];
    first.toTensor(vs, mode(m.visual().resize()), ResizeFilter.PIL_BILINEAR, m.visual().mean(), m.visual().std(),
        wantV, 0);
    float[] wantS = new float[3 * ss * ss];
    first.toTensor(ss, mode(m.sync().resize()), ResizeFilter.PIL_BICUBIC, m.sync().mean(), m.sync().std(), wantS, 0);
    float[][] got = firstInputs(pil, video);
    assertArrayEquals(wantV, java.util.Arrays.copyOf(got[0], wantV.length), "first visual frame, pil-bilinear");
    assertArrayEquals(wantS, java.util.Arrays.copyOf(got[1], wantS.length), "first sync frame, pil-bicubic");

    // and the default bundle still gets the 2-tap pixels, which differ from PIL's on this frame
    float[][] old = firstInputs(TestSupport.referenceBundleDir(), video);
    float[] twoTap = new float[3 * vs * vs];
    first.toTensor(vs, mode(m.visual().resize()), m.visual().mean(), m.visual().std(), twoTap, 0);
    assertArrayEquals(twoTap, java.util.Arrays.copyOf(old[0], twoTap.length), "default: bilinear-2tap");
    assertTrue(!java.util.Arrays.equals(twoTap, wantV), "the filters differ on a 640x360 frame");
  }

  /** With frameRule at-or-after the sync encoder sees the first frame at or after each time. */
  @Test
  void syncFramesFollowTheManifestsFrameRule() throws Exception {
    Path video = tmp.resolve("square24.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(24, 1).durationSeconds(1.0).background(0x204060)
        .movingSquare(0, 1.0, 0xffe080).build(), video);
    Path dir = bundleWith("bilinear-2tap", "bilinear-2tap");
    Path manifest = dir.resolve(ModelBundle.MANIFEST);
    JsonObject o = JsonParser.parseString(Files.readString(manifest)).getAsJsonObject();
    o.addProperty("frameRule", "at-or-after");
    Files.writeString(manifest, o.toString(), StandardCharsets.UTF_8);
    BundleManifest m;
    try (ModelBundle b = ModelBundle.open(dir)) {
      m = b.manifest();
    }
    assertEquals(BundleManifest.FrameRule.AT_OR_AFTER, m.frameRule());
    int ss = m.sync().size();
    int per = 3 * ss * ss;
    int window = m.sync().window();
    float[][] expect = new float[2][window * per]; // [0]: at-or-before, [1]: at-or-after
    for (int r = 0; r < 2; r++) {
      try (VideoSource s = JcodecVideoSources.jcodec().open(video)) {
        FrameSampler sampler = FrameSampler.over(s, BundleManifest.FrameRule.values()[r]);
        for (int j = 0; j < window; j++) {
          sampler.frameAt(j / m.sync().fps()).toTensor(ss, mode(m.sync().resize()), m.sync().mean(), m.sync().std(),
              expect[r], j * per);
        }
      }
    }
    assertTrue(!java.util.Arrays.equals(expect[0], expect[1]), "the rules pick other frames at 24 fps on a 25 fps grid");
    float[] got = java.util.Arrays.copyOf(firstInputs(dir, video)[1], window * per);
    assertArrayEquals(expect[1], got, "the first sync window, frames at or after each time");
    float[] dflt = java.util.Arrays.copyOf(firstInputs(TestSupport.referenceBundleDir(), video)[1], window * per);
    assertArrayEquals(expect[0], dflt, "the default rule: the frame on screen");
  }

  private static boolean blank(Tensor t) {
    for (float f : t.floats()) {
      if (f != 0f) {
        return false;
      }
    }
    return true;
  }

  private static ResizeMode mode(String resize) {
    return resize.equals("center_crop") ? ResizeMode.CENTER_CROP : ResizeMode.SQUASH;
  }
}
