package io.foley4j.bundle;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.TestSupport;
import io.foley4j.reference.ReferenceModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Copies of the reference bundle that pass the sha256 check (the manifest's digests are updated to
 * match the tampered files) but can never load. Shared with the CLI tests through the test-jar.
 */
public final class TamperedBundles {
  private TamperedBundles() {}

  /** One way to break a bundle, with the file the error must name. */
  public enum Kind {
    /** denoiser.onnx replaced by random bytes. */
    GARBAGE_ONNX("denoiser.onnx"),
    /** vae_decoder.onnx cut to half its length. */
    TRUNCATED_ONNX("vae_decoder.onnx"),
    /** text_encoder.onnx and vae_decoder.onnx contents swapped. */
    SWAPPED_STAGES("text_encoder.onnx"),
    /** visual_encoder.onnx taken from a reference model whose features are 64 wide, not 768. */
    FOREIGN_STAGE("visual_encoder.onnx"),
    /** tokenizer.json replaced by random bytes. */
    GARBAGE_TOKENIZER("tokenizer.json"),
    /** unconditional.safetensors replaced by random bytes. */
    GARBAGE_SAFETENSORS("unconditional.safetensors"),
    /** unconditional.safetensors well formed, but its visual tensor is 64 wide instead of 768. */
    WRONG_UNCONDITIONAL("unconditional.safetensors"),
    /** denoiser.onnx loads and has the declared inputs and outputs, but its float weights are NaN. */
    NAN_WEIGHTS("denoiser.onnx");

    private final String file;

    Kind(String file) {
      this.file = file;
    }

    /** The file that is broken; the error message must name it. */
    public String file() {
      return file;
    }
  }

  /** Writes a tampered copy of the default reference bundle into {@code parent/kind} and returns it. */
  public static Path write(Path parent, Kind kind) {
    try {
      Path d = parent.resolve(kind.name().toLowerCase(java.util.Locale.ROOT));
      copy(TestSupport.referenceBundleDir(), d);
      Random rnd = new Random(kind.ordinal());
      switch (kind) {
        case GARBAGE_ONNX, GARBAGE_TOKENIZER, GARBAGE_SAFETENSORS -> {
          byte[] junk = new byte[4096];
          rnd.nextBytes(junk);
          Files.write(d.resolve(kind.file()), junk);
        }
        case TRUNCATED_ONNX -> {
          byte[] b = Files.readAllBytes(d.resolve(kind.file()));
          Files.write(d.resolve(kind.file()), Arrays.copyOf(b, b.length / 2));
        }
        case SWAPPED_STAGES -> {
          byte[] text = Files.readAllBytes(d.resolve("text_encoder.onnx"));
          byte[] vae = Files.readAllBytes(d.resolve("vae_decoder.onnx"));
          Files.write(d.resolve("text_encoder.onnx"), vae);
          Files.write(d.resolve("vae_decoder.onnx"), text);
        }
        case FOREIGN_STAGE -> {
          Path other = parent.resolve(kind.name() + "-donor");
          ReferenceModel.writeBundle(other, ReferenceModel.options().embedDim(64).build());
          Files.copy(other.resolve(kind.file()), d.resolve(kind.file()),
              java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        case WRONG_UNCONDITIONAL -> Files.write(d.resolve(kind.file()), Safetensors.toBytes(Map.of(
            "visual", Safetensors.Tensor.f32(new float[64], 64),
            "sync", Safetensors.Tensor.f32(new float[768], 768)), Map.of()));
        case NAN_WEIGHTS -> nanWeights(d.resolve(kind.file()));
        default -> throw new AssertionError(kind);
      }
      rehash(d);
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Overwrites, in place, the values of every float32 initializer of the ONNX model {@code onnx}
   * that holds more than 16 values inline ({@code raw_data}) with NaN: the model still parses and
   * declares the same inputs and outputs, but computes NaN. Returns how many initializers changed.
   */
  public static int nanWeights(Path onnx) throws IOException {
    byte[] b = Files.readAllBytes(onnx);
    int changed = 0;
    int[] graph = field(b, 0, b.length, 7); // ModelProto.graph
    if (graph == null) {
      throw new IllegalArgumentException(onnx + " has no graph");
    }
    for (int at = graph[0]; ; ) {
      int[] init = field(b, at, graph[1], 5); // GraphProto.initializer
      if (init == null) {
        break;
      }
      int[] type = field(b, init[0], init[1], 2); // TensorProto.data_type (a varint: [value, end])
      int[] raw = field(b, init[0], init[1], 9); // TensorProto.raw_data
      if (type != null && type[0] == 1 && raw != null && raw[1] - raw[0] > 64) {
        java.nio.ByteBuffer nan = java.nio.ByteBuffer.wrap(b, raw[0], raw[1] - raw[0]).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        while (nan.remaining() >= 4) {
          nan.putFloat(Float.NaN);
        }
        changed++;
      }
      at = init[1];
    }
    if (changed == 0) {
      throw new IllegalArgumentException(onnx + " has no inline float32 initializer to overwrite");
    }
    Files.write(onnx, b);
    return changed;
  }

  /**
   * The first field {@code number} in the protobuf message {@code b[from, to)}: for a
   * length-delimited field {start, end} of its bytes, for a varint {value, end}; null if absent.
   */
  private static int[] field(byte[] b, int from, int to, int number) {
    int[] p = {from};
    while (p[0] < to) {
      long key = varint(b, p);
      int wire = (int) (key & 7);
      int n = (int) (key >>> 3);
      switch (wire) {
        case 0 -> {
          long v = varint(b, p);
          if (n == number) {
            return new int[] {(int) v, p[0]};
          }
        }
        case 1 -> p[0] += 8;
        case 5 -> p[0] += 4;
        case 2 -> {
          int len = (int) varint(b, p);
          if (n == number) {
            return new int[] {p[0], p[0] + len};
          }
          p[0] += len;
        }
        default -> throw new IllegalArgumentException("protobuf wire type " + wire + " at " + p[0]);
      }
    }
    return null;
  }

  private static long varint(byte[] b, int[] p) {
    long v = 0;
    for (int shift = 0; ; shift += 7) {
      byte x = b[p[0]++];
      v |= (long) (x & 0x7f) << shift;
      if (x >= 0) {
        return v;
      }
    }
  }

  /** Copies a flat bundle directory. */
  public static Path copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> s = Files.list(from)) {
      for (Path p : s.toList()) {
        Files.copy(p, to.resolve(p.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return to;
  }

  /** Rewrites the manifest's sha256 of every listed file (external data included) to the file's current digest. */
  public static void rehash(Path dir) throws IOException {
    Path mf = dir.resolve(ModelBundle.MANIFEST);
    JsonObject o = JsonParser.parseString(Files.readString(mf)).getAsJsonObject();
    for (String section : new String[] {"stages", "files"}) {
      for (Map.Entry<String, JsonElement> e : o.getAsJsonObject(section).entrySet()) {
        JsonObject f = e.getValue().getAsJsonObject();
        f.addProperty("sha256", ModelBundle.sha256(dir.resolve(f.get("file").getAsString())));
        if (f.has("externalData")) {
          for (JsonElement x : f.getAsJsonArray("externalData")) {
            JsonObject xo = x.getAsJsonObject();
            xo.addProperty("sha256", ModelBundle.sha256(dir.resolve(xo.get("file").getAsString())));
          }
        }
      }
    }
    Files.write(mf, new GsonBuilder().setPrettyPrinting().create().toJson(o).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The reference model with its denoiser's weights in external data, whose {@code denoiser.onnx}
   * then reads them from {@code location} (18 characters, like the original "denoiser.onnx.data")
   * instead; the manifest is re-hashed, so the shallow check passes. A file with other weights is
   * written at {@code location} when it resolves inside {@code parent}.
   */
  public static Path externalDataElsewhere(Path parent, String name, String location) throws IOException {
    String original = "denoiser.onnx.data";
    byte[] from = original.getBytes(StandardCharsets.UTF_8);
    byte[] to = location.getBytes(StandardCharsets.UTF_8);
    if (from.length != to.length) {
      throw new IllegalArgumentException("the location must have " + from.length + " bytes: " + location);
    }
    Path dir = parent.resolve(name);
    ReferenceModel.writeBundle(dir, ReferenceModel.options().externalData(true).build());
    byte[] weights = Files.readAllBytes(dir.resolve(original));
    weights[weights.length / 3] ^= 0x40;
    Path target = dir.resolve(location).normalize();
    if (target.startsWith(parent)) {
      Files.createDirectories(target.getParent());
      Files.write(target, weights);
    }
    Path model = dir.resolve("denoiser.onnx");
    byte[] b = Files.readAllBytes(model);
    int replaced = 0;
    for (int i = 0; i + from.length <= b.length; i++) {
      if (Arrays.equals(b, i, i + from.length, from, 0, from.length)) {
        System.arraycopy(to, 0, b, i, to.length);
        replaced++;
      }
    }
    if (replaced == 0) {
      throw new IllegalStateException("denoiser.onnx does not name " + original);
    }
    Files.write(model, b);
    rehash(dir);
    return dir;
  }
}
