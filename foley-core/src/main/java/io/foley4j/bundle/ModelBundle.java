package io.foley4j.bundle;

import io.foley4j.FoleyException;
import io.foley4j.InvalidBundleException;
import io.foley4j.backend.CpuBackend;
import io.foley4j.backend.StageSession;
import io.foley4j.text.Encoding;
import io.foley4j.text.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * A verified model bundle: a directory holding {@code foley-bundle.json} and the files it lists.
 *
 * <p>{@link #open(Path)} accepts a directory, a {@code .tar.gz}/{@code .tgz} or a {@code .zip}.
 * Archives are extracted into a private temporary directory, safely: entries that would escape it,
 * links, special files, and archives over the size limit are refused. Every listed file's SHA-256 is
 * checked before the bundle is returned, and the manifest's shapes are checked against its rates.
 * Every ONNX external data a stage names must be a file of the bundle that the manifest lists (so
 * hashed and covered by the {@link #digest()}), and the bytes it names must lie inside it: checked
 * when the bundle opens and again before a stage loads ({@link #stageFile}).
 *
 * <p>Opening checks the manifest and the hashes only (cheap next to loading the models);
 * {@link #verifyDeep()} also loads and runs every stage once, and reads the tokenizer and the
 * unconditional embeddings.
 * Read the tokenizer and the embeddings through {@link #tokenizer()} and {@link #unconditional()}:
 * a malformed file is then an {@link InvalidBundleException} that names it.
 *
 * <p>A bundle is immutable and thread-safe. {@link #close()} deletes the temporary directory of an
 * extracted archive (idempotent); it does nothing for a directory bundle. Close it after the
 * engines that use it.
 */
public final class ModelBundle implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ModelBundle.class.getName());

  /** Default cap on the bytes an archive may extract to (64 GiB). */
  public static final long DEFAULT_MAX_EXTRACTED_BYTES = 64L << 30;

  /** The manifest's file name. */
  public static final String MANIFEST = "foley-bundle.json";

  private final Path directory;
  private final BundleManifest manifest;
  private final String digest;
  private final Path tempRoot; // null for a directory bundle
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Object readLock = new Object();
  private Tokenizer tokenizer; // guarded by readLock, read once
  private Unconditional unconditional; // guarded by readLock, read once
  private final java.util.Set<Stage> externalChecked = java.util.EnumSet.noneOf(Stage.class); // guarded by readLock

  /**
   * The learned "empty" features of {@code unconditional.safetensors}: {@code visual} of
   * {@link BundleManifest.Widths#visual()} and {@code sync} of {@link BundleManifest.Widths#sync()}
   * floats, and optionally {@code text}, the text encoder's output for "no prompt" as MMAudio learns
   * it ([maxTokens, text width], or with a leading 1), used for the unconditional rows of a request
   * that has no negative prompt when the bundle's default negative prompt is empty.
   */
  public static final class Unconditional {
    private final float[] visual;
    private final float[] sync;
    private final float[] text; // null: none

    private Unconditional(float[] visual, float[] sync, float[] text) {
      this.visual = visual;
      this.sync = sync;
      this.text = text;
    }

    /** A copy of the learned empty text features [maxTokens × text width], if the bundle has them. */
    public java.util.Optional<float[]> text() {
      return text == null ? java.util.Optional.empty() : java.util.Optional.of(text.clone());
    }

    /** A copy of the empty visual feature (one frame's worth). */
    public float[] visual() {
      return visual.clone();
    }

    /** A copy of the empty sync token. */
    public float[] sync() {
      return sync.clone();
    }
  }

  private ModelBundle(Path directory, BundleManifest manifest, String digest, Path tempRoot) {
    this.directory = directory;
    this.manifest = manifest;
    this.digest = digest;
    this.tempRoot = tempRoot;
  }

  /** Opens and verifies a bundle directory or archive, extracting at most {@link #DEFAULT_MAX_EXTRACTED_BYTES}. */
  public static ModelBundle open(Path path) {
    return open(path, DEFAULT_MAX_EXTRACTED_BYTES);
  }

  /**
   * Opens and verifies a bundle directory or archive.
   *
   * @param maxExtractedBytes the most bytes an archive may extract to (counted while extracting)
   * @throws InvalidBundleException if the bundle is malformed, tampered with or unsafe
   * @throws FoleyException with {@link FoleyException.Code#IO} if it cannot be read
   */
  public static ModelBundle open(Path path, long maxExtractedBytes) {
    return open(path, maxExtractedBytes, null);
  }

  /**
   * As {@link #open(Path, long)}; for a directory, files that {@code verified} records as already
   * hashed and unchanged since (size, modification and status-change times, inode) are not hashed
   * again, and the files hashed now are recorded. An archive is extracted afresh, so all its files
   * are hashed (and a record is of no use: extract it once and open the directory).
   *
   * @param verified where such records are kept, or null to hash every file
   */
  public static ModelBundle open(Path path, long maxExtractedBytes, VerifiedFiles verified) {
    Objects.requireNonNull(path, "path");
    if (maxExtractedBytes <= 0) {
      throw new IllegalArgumentException("maxExtractedBytes must be positive, was " + maxExtractedBytes);
    }
    if (!Files.exists(path)) {
      throw new FoleyException(FoleyException.Code.IO, "model bundle " + path + " does not exist");
    }
    if (Files.isDirectory(path)) {
      return load(path, null, verified);
    }
    if (verified != null) {
      LOG.info("bundle " + path + " is an archive: extracted afresh and every file hashed; " + verified
          + " keeps records of bundle directories only");
    }
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    BundleArchives.Kind kind;
    if (name.endsWith(".tar.gz") || name.endsWith(".tgz")) {
      kind = BundleArchives.Kind.TAR_GZ;
    } else if (name.endsWith(".zip")) {
      kind = BundleArchives.Kind.ZIP;
    } else {
      throw new InvalidBundleException("model bundle " + path
          + " is neither a directory nor a .tar.gz/.tgz/.zip archive");
    }
    Path dir;
    try {
      dir = Files.createTempDirectory("foley4j-bundle-");
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO,
          "cannot create a temporary directory to extract " + path + ": " + e, e);
    }
    try {
      BundleArchives.extract(path, kind, dir, maxExtractedBytes);
      Path root = dir;
      if (!Files.exists(dir.resolve(MANIFEST))) {
        // Allow one top-level folder, as `tar czf b.tgz bundle/` produces.
        try (var s = Files.list(dir)) {
          var entries = s.toList();
          if (entries.size() == 1 && Files.isDirectory(entries.get(0), LinkOption.NOFOLLOW_LINKS)) {
            root = entries.get(0);
          }
        }
      }
      return load(root, dir, null);
    } catch (IOException e) {
      BundleArchives.deleteRecursively(dir);
      throw new FoleyException(FoleyException.Code.IO, "cannot read bundle archive " + path + ": " + e, e);
    } catch (RuntimeException | Error e) {
      BundleArchives.deleteRecursively(dir);
      throw e;
    }
  }

  /**
   * Opens and verifies a bundle directory that the returned bundle then owns: closing the bundle
   * deletes the directory. For generated bundles such as the reference model's.
   */
  public static ModelBundle openOwned(Path dir) {
    Objects.requireNonNull(dir, "dir");
    return load(dir, dir, null);
  }

  /** Deletes a directory tree, logging instead of throwing. */
  public static void deleteQuietly(Path dir) {
    BundleArchives.deleteRecursively(dir);
  }

  private static ModelBundle load(Path dir, Path tempRoot, VerifiedFiles verified) {
    Path mf = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(mf, LinkOption.NOFOLLOW_LINKS)) {
      throw new InvalidBundleException("no " + MANIFEST + " in " + dir + ": not a foley4j model bundle");
    }
    byte[] manifestBytes;
    try {
      manifestBytes = Files.readAllBytes(mf);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read " + mf + ": " + e, e);
    }
    BundleManifest manifest = BundleManifest.parse(new String(manifestBytes, StandardCharsets.UTF_8));
    // The manifest lists every file's digest, so hashing it identifies the whole bundle.
    String digest = HexFormat.of().formatHex(sha256(manifestBytes));
    VerifiedFiles.Record record = verified == null ? null : verified.record(realPath(dir), digest);
    for (Map.Entry<String, String> f : manifest.files().digests().entrySet()) {
      Path p = dir.resolve(f.getKey());
      if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new InvalidBundleException("bundle " + dir + " lists " + f.getKey() + " but the file is missing"
            + (Files.isSymbolicLink(p) ? " (it is a symbolic link, which bundles may not contain)" : ""));
      }
      if (record != null && record.verified(f.getKey(), p, f.getValue())) {
        continue;
      }
      String actual = sha256(p);
      if (!actual.equals(f.getValue())) {
        throw new InvalidBundleException("sha256 mismatch for " + f.getKey() + " in bundle " + dir + ": manifest says "
            + f.getValue() + ", file has " + actual + ". The file was modified or corrupted; re-copy or re-export the bundle");
      }
      if (record != null) {
        record.hashed(f.getKey(), p, actual);
      }
    }
    if (record != null) {
      record.save();
    }
    ModelBundle bundle = new ModelBundle(dir, manifest, digest, tempRoot);
    bundle.checkExternalDataOfWellFormedModels();
    return bundle;
  }

  /** The directory that holds the bundle's files (a temporary one for an archive). */
  public Path directory() {
    ensureOpen();
    return directory;
  }

  /** The bundle's parsed and validated {@code foley-bundle.json}. */
  public BundleManifest manifest() {
    return manifest;
  }

  /** SHA-256 (hex) identifying this bundle's exact contents; part of every cache key. */
  public String digest() {
    return digest;
  }

  /**
   * The path of a stage's ONNX file, once the external data it names has been checked: every
   * tensor whose weights live outside the model must name, as a plain file name, one of the files
   * the manifest lists under the stage's {@code externalData} (hashed when the bundle opened and
   * covered by the digest), and the bytes it names must lie inside that file. The check reads the
   * model's protobuf in Java (headers only, inline weights are skipped) once per stage.
   *
   * @throws InvalidBundleException if the model names external data outside the bundle, data the
   *     manifest does not list, or bytes past the end of a listed file, or does not parse
   */
  public Path stageFile(Stage stage) {
    Path file = directory().resolve(manifest.stage(stage).file());
    synchronized (readLock) {
      if (!externalChecked.contains(stage)) {
        checkExternalData(stage, file);
        externalChecked.add(stage);
      }
    }
    return file;
  }

  /**
   * At open (the shallow check too): the external-data rules of {@link #stageFile} for every stage
   * whose model parses; a model that does not parse is left to the deep check and the engine, which
   * refuse it when they load it.
   */
  private void checkExternalDataOfWellFormedModels() {
    synchronized (readLock) {
      for (Stage s : Stage.values()) {
        try {
          checkExternalData(s, directory.resolve(manifest.stage(s).file()));
          externalChecked.add(s);
        } catch (OnnxExternalData.Malformed notAModel) {
          // checked again, strictly, before the stage loads
        }
      }
    }
  }

  /** See {@link #stageFile}: every byte a stage loads is inside the bundle, listed and hashed. */
  private void checkExternalData(Stage stage, Path model) {
    StageSpec spec = manifest.stage(stage);
    List<String> listed = manifest.files().externalData().getOrDefault(stage, List.of());
    String where = "stage " + stage.key() + " (" + spec.file() + ")";
    for (OnnxExternalData.Ref r : OnnxExternalData.references(model)) {
      String loc = r.location();
      String tensor = "tensor \"" + r.tensor() + "\"";
      if (loc.isEmpty() || loc.contains("/") || loc.contains("\\") || loc.equals("..") || loc.equals(".")
          || loc.contains("\0") || loc.contains(":")) {
        throw new InvalidBundleException(where + ": " + tensor + " reads its weights from \"" + loc + "\", which is"
            + " not a plain file name inside the bundle (a directory, \"..\" or an absolute path); every byte a bundle"
            + " loads must sit beside its model and be listed in the manifest: re-export the stage with its external data"
            + " next to it");
      }
      if (!listed.contains(loc)) {
        throw new InvalidBundleException(where + ": " + tensor + " reads its weights from external data \"" + loc
            + "\", which the manifest does not list (stages." + stage.key() + ".externalData lists " + listed
            + "), so it is neither verified nor covered by the bundle's digest; list it with its sha256 (bundle format"
            + " version 2) or re-export the stage with its weights inside the model");
      }
      Path data = directory.resolve(loc);
      long size;
      try {
        size = Files.size(data);
      } catch (IOException e) {
        throw new InvalidBundleException(where + ": external data " + loc + " of " + tensor + " is missing or"
            + " unreadable (" + e + "); re-copy or re-download the bundle", e);
      }
      long bytes = r.bytes();
      if (r.offset() > size || bytes >= 0 && bytes > size - r.offset()) {
        throw new InvalidBundleException(where + ": " + tensor + " needs " + (bytes >= 0 ? bytes + " bytes" : "its bytes")
            + " at offset " + r.offset() + " of external data " + loc + ", which has only " + size + " bytes: the file"
            + " is truncated or belongs to another export; re-export or re-download the bundle");
      }
      if (r.length() >= 0 && r.expectedBytes() >= 0 && r.length() != r.expectedBytes()) {
        throw new InvalidBundleException(where + ": " + tensor + " declares " + r.length() + " bytes of external data"
            + " in " + loc + " but its type and shape need " + r.expectedBytes() + "; re-export the stage");
      }
    }
  }

  /** The path of the tokenizer file. */
  public Path tokenizerFile() {
    return directory().resolve(manifest.files().tokenizer());
  }

  /** The path of the unconditional embeddings (safetensors). */
  public Path unconditionalFile() {
    return directory().resolve(manifest.files().unconditional());
  }

  /**
   * The bundle's tokenizer, read from {@link #tokenizerFile()} on first use and then shared.
   *
   * @throws InvalidBundleException naming the file if it is not a tokenizer foley4j can use
   * @throws FoleyException with {@link FoleyException.Code#IO} if it cannot be read
   */
  public Tokenizer tokenizer() {
    synchronized (readLock) {
      if (tokenizer == null) {
        Path file = tokenizerFile();
        try {
          tokenizer = Tokenizer.fromJson(file);
        } catch (FoleyException e) {
          if (e.code() != FoleyException.Code.INVALID_BUNDLE) {
            throw e;
          }
          throw new InvalidBundleException(manifest.files().tokenizer() + " of bundle " + directory + " is not a usable"
              + " tokenizer (" + e.getMessage() + "); re-export it with Hugging Face tokenizers or re-download the"
              + " bundle", e);
        }
      }
      return tokenizer;
    }
  }

  /**
   * The unconditional embeddings, read from {@link #unconditionalFile()} on first use. The file must
   * be safetensors holding float32 tensors {@code visual} and {@code sync} of the manifest's feature
   * widths (shape {@code [D]} or {@code [1, D]}); other tensors are ignored.
   *
   * @throws InvalidBundleException naming the file if it is malformed or the tensors are missing or
   *     of the wrong type or size
   * @throws FoleyException with {@link FoleyException.Code#IO} if it cannot be read
   */
  public Unconditional unconditional() {
    synchronized (readLock) {
      if (unconditional == null) {
        String name = manifest.files().unconditional();
        Safetensors.Contents c;
        try {
          c = Safetensors.read(unconditionalFile());
        } catch (FoleyException e) {
          if (e.code() == FoleyException.Code.IO) {
            throw e;
          }
          throw new InvalidBundleException(name + " of bundle " + directory + " is not a valid safetensors file ("
              + e.getMessage() + "); the file is damaged or was not exported correctly: re-export or re-download"
              + " the bundle", e);
        }
        unconditional = new Unconditional(vector(c, "visual", manifest.widths().visual(), name),
            vector(c, "sync", manifest.widths().sync(), name), emptyText(c, name));
      }
      return unconditional;
    }
  }

  /** The optional learned empty text: F32 [maxTokens, text width] or [1, maxTokens, text width]. */
  private float[] emptyText(Safetensors.Contents c, String file) {
    Safetensors.Tensor t = c.tensors().get("text");
    if (t == null) {
      return null;
    }
    if (manifest.text().padding() == BundleManifest.TextPadding.PAIR_LONGEST) {
      throw new InvalidBundleException(file + " of bundle " + directory + " carries a learned empty text (\"text\"), "
          + "which only text.padding \"fixed\" can use (with \"pair-longest\" the text length follows the prompts); "
          + "remove the tensor or re-export with fixed padding");
    }
    long n = manifest.text().maxTokens();
    long d = manifest.widths().text();
    long[] shape = t.shape();
    boolean ok = t.dtype() == Safetensors.DType.F32 && (Arrays.equals(shape, new long[] {n, d})
        || Arrays.equals(shape, new long[] {1, n, d}));
    if (!ok) {
      throw new InvalidBundleException(file + " of bundle " + directory + ": the optional tensor \"text\" (the learned "
          + "empty prompt) must be F32 [" + n + ", " + d + "] (text.maxTokens, the text encoder's width), found " + t
          + "; re-export or re-download the bundle");
    }
    return t.floats();
  }

  private float[] vector(Safetensors.Contents c, String tensor, int dim, String file) {
    Safetensors.Tensor t = c.tensors().get(tensor);
    long[] shape = t == null ? null : t.shape();
    boolean shapeOk = shape != null && (Arrays.equals(shape, new long[] {dim}) || Arrays.equals(shape, new long[] {1, dim}));
    if (t == null || t.dtype() != Safetensors.DType.F32 || !shapeOk) {
      throw new InvalidBundleException(file + " of bundle " + directory + ": tensor \"" + tensor + "\" must be F32 ["
          + dim + "] (the manifest's feature width), found " + (t == null ? "none (it has " + c.tensors().keySet() + ")"
          : t.toString()) + "; re-export or re-download the bundle");
    }
    return t.floats();
  }

  /**
   * Checks that the bundle can actually load and run, beyond the hashes {@link #open} checks: reads
   * the tokenizer and encodes a test prompt to {@code text.maxTokens} ids; reads the unconditional
   * embeddings and checks their types and widths; then, one stage at a time, loads it with ONNX
   * Runtime on the CPU (one thread, no graph optimisation), compares each input's and output's name,
   * element type and shape with the manifest (a fixed dimension must be equal; a dimension the
   * manifest declares symbolic must be symbolic in the model), and runs it once on inputs of the
   * declared shapes at batch 1 and the smallest lengths a request can give them (the shortest single
   * pass on a single-pass bundle; fixed pseudo-random values), refusing an output that is missing,
   * of another shape than the manifest and those inputs imply, or not finite (NaN/Inf weights).
   * Loading and running a stage takes as much memory as its weights and one short call, one stage
   * at a time.
   *
   * @return what was checked, when everything passed
   * @throws InvalidBundleException at the first check that fails, naming the stage or file and what to do
   * @throws FoleyException with {@link FoleyException.Code#BACKEND_FAILURE} if ONNX Runtime itself
   *     fails to start for a reason other than the file, or {@link FoleyException.Code#IO} if a file
   *     cannot be read
   */
  public BundleVerification verifyDeep() {
    List<String> checks = new ArrayList<>();
    Tokenizer t = tokenizer();
    int max = manifest.text().maxTokens();
    boolean pair = manifest.text().padding() == BundleManifest.TextPadding.PAIR_LONGEST;
    Encoding e;
    Encoding probePrompt;
    String testPrompt = "a dog barks twice, then a door slams";
    try {
      e = t.encode(testPrompt, max);
      probePrompt = pair ? t.encode(testPrompt, manifest.text().encoderMaxTokens()) : e;
    } catch (FoleyException ex) {
      throw new InvalidBundleException(manifest.files().tokenizer() + " of bundle " + directory + " cannot encode a prompt"
          + " into text.maxTokens = " + max + " ids (" + ex.getMessage() + "); re-export the tokenizer or fix the"
          + " manifest", ex);
    }
    if (e.ids().length != max || e.attentionMask().length != max) {
      throw new FoleyException(FoleyException.Code.INTERNAL, "the tokenizer returned " + e.ids().length
          + " ids for maxLength " + max);
    }
    checks.add(manifest.files().tokenizer() + ": tokenizer with " + t.vocabSize() + " ids encodes a test prompt into "
        + max + " tokens");
    unconditional();
    checks.add(manifest.files().unconditional() + ": F32 visual [" + manifest.widths().visual() + "] and sync ["
        + manifest.widths().sync() + "]");
    StageProbe probe = new StageProbe(manifest, probePrompt);
    CpuBackend cpu = CpuBackend.builder().intraOpThreads(1).optimization(CpuBackend.Optimization.NONE)
        .memoryArena(false).build();
    // One session at a time, each closed before the next is created. The OrtEnvironment is ONNX
    // Runtime's process-wide singleton, shared with any engine in this JVM: it is not ours to close.
    for (Stage s : Stage.values()) {
      StageSpec spec = manifest.stage(s);
      try (StageSession session = cpu.open(spec, stageFile(s))) {
        Map<String, io.foley4j.backend.Tensor> in = probe.inputs(spec);
        Map<String, io.foley4j.backend.Tensor> out;
        try {
          out = session.run(in);
        } catch (InvalidBundleException ex) {
          throw ex;
        } catch (FoleyException ex) {
          throw new InvalidBundleException("stage " + s.key() + " (" + spec.file() + ") loads but fails when run once on "
              + StageProbe.describe(in) + ", inputs of its declared shapes: " + ex.getMessage()
              + "; re-export the stage or re-download the bundle", ex);
        }
        checks.add("stage " + s.key() + ": " + spec.file() + " loads; inputs " + spec.inputs() + " and outputs "
            + spec.outputs() + " match the manifest; " + probe.check(spec, in, out));
      }
    }
    return new BundleVerification(manifest.name(), digest, checks);
  }

  private void ensureOpen() {
    if (closed.get() && tempRoot != null) {
      throw new FoleyException(FoleyException.Code.CLOSED, "this model bundle was closed and its extracted files deleted");
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && tempRoot != null) {
      BundleArchives.deleteRecursively(tempRoot);
    }
  }

  @Override
  public String toString() {
    return "ModelBundle[" + manifest.name() + " at " + directory + ", digest " + digest.substring(0, 12) + "]";
  }

  private static Path realPath(Path dir) {
    try {
      return dir.toRealPath();
    } catch (IOException e) {
      return dir.toAbsolutePath().normalize();
    }
  }

  static String sha256(Path p) {
    try (InputStream in = Files.newInputStream(p)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read " + p + ": " + e, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
