package io.foley4j.bundle;

import io.foley4j.FoleyException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Reads NumPy {@code .npz} archives ({@code numpy.savez}, compressed or not) and {@code .npy}
 * arrays: little-endian float16/32/64, int8..64, uint8 and bool, C order. Floats are widened or
 * narrowed to float32 and integers to int64, the two element types stages take. Limited to
 * arrays of at most 2^31 − 1 elements and to 4 GiB per archive.
 */
public final class Npz {
  /** One array: its shape and its elements, as floats or as longs. */
  public record Array(long[] shape, float[] floats, long[] longs) {
    /** Whether the elements are floats (else longs). */
    public boolean isFloat() {
      return floats != null;
    }

    /** The number of elements: the product of the shape. */
    public long size() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([a-z])(\\d+)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private Npz() {}

  /**
   * Every array of an {@code .npz} file, by name (without {@code .npy}), in archive order.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if the file is not a readable npz
   */
  public static Map<String, Array> read(Path file) {
    Map<String, Array> out = new LinkedHashMap<>();
    try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(file))) {
      ZipEntry e;
      while ((e = zip.getNextEntry()) != null) {
        String name = e.getName();
        if (e.isDirectory() || !name.endsWith(".npy")) {
          continue;
        }
        String key = name.substring(0, name.length() - 4);
        out.put(key, readNpy(zip, file + ":" + name));
      }
    } catch (java.nio.file.NoSuchFileException ex) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, file + " does not exist: give a .npz file written"
          + " with numpy.savez or numpy.savez_compressed", ex);
    } catch (IOException ex) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, file + " is not a readable .npz archive ("
          + ex + "); write it with numpy.savez or numpy.savez_compressed", ex);
    }
    if (out.isEmpty()) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, file + " holds no .npy arrays; write it with "
          + "numpy.savez or numpy.savez_compressed");
    }
    return out;
  }

  /** One {@code .npy} array from a stream (read to its end). */
  static Array readNpy(InputStream in, String where) throws IOException {
    byte[] all = readAll(in, where);
    ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
    if (all.length < 10 || (all[0] & 0xff) != 0x93 || !"NUMPY".equals(new String(all, 1, 5, StandardCharsets.US_ASCII))) {
      throw bad(where, "no NUMPY magic");
    }
    int major = all[6];
    int headerLen;
    int offset;
    if (major == 1) {
      headerLen = b.getShort(8) & 0xffff;
      offset = 10;
    } else if (major == 2 || major == 3) {
      if (all.length < 12) {
        throw bad(where, "truncated header");
      }
      headerLen = b.getInt(8);
      offset = 12;
    } else {
      throw bad(where, "unknown .npy version " + major);
    }
    if (headerLen < 0 || offset + headerLen > all.length) {
      throw bad(where, "truncated header");
    }
    String header = new String(all, offset, headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Matcher d = DESCR.matcher(header);
    Matcher f = FORTRAN.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find() || !f.find() || !s.find()) {
      throw bad(where, "unreadable header " + header.trim());
    }
    if (f.group(1).equals("True")) {
      throw bad(where, "Fortran order is not supported; save np.ascontiguousarray(x)");
    }
    if (d.group(1).equals(">")) {
      throw bad(where, "big-endian arrays are not supported");
    }
    char kind = d.group(2).charAt(0);
    int width = Integer.parseInt(d.group(3));
    String[] dims = s.group(1).split(",");
    long[] shape = java.util.Arrays.stream(dims).map(String::trim).filter(x -> !x.isEmpty())
        .mapToLong(Long::parseLong).toArray();
    long n = 1;
    for (long x : shape) {
      if (x < 0) {
        throw bad(where, "negative dimension");
      }
      n = Math.multiplyExact(n, x);
    }
    if (n > Integer.MAX_VALUE) {
      throw bad(where, "more than 2^31 - 1 elements");
    }
    int data = offset + headerLen;
    if ((long) data + n * width > all.length) {
      throw bad(where, "truncated data: " + n + " elements of " + width + " bytes need " + n * width + " bytes, found "
          + (all.length - data));
    }
    b.position(data);
    int count = (int) n;
    switch (kind) {
      case 'f' -> {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
          v[i] = switch (width) {
            case 2 -> halfToFloat(b.getShort());
            case 4 -> b.getFloat();
            case 8 -> (float) b.getDouble();
            default -> throw bad(where, "float" + width * 8 + " is not supported");
          };
        }
        return new Array(shape, v, null);
      }
      case 'i', 'u', 'b' -> {
        long[] v = new long[count];
        for (int i = 0; i < count; i++) {
          v[i] = switch (width) {
            case 1 -> kind == 'i' ? b.get() : b.get() & 0xffL;
            case 2 -> kind == 'i' ? b.getShort() : b.getShort() & 0xffffL;
            case 4 -> kind == 'i' ? b.getInt() : b.getInt() & 0xffffffffL;
            case 8 -> b.getLong();
            default -> throw bad(where, "integers of " + width + " bytes are not supported");
          };
        }
        return new Array(shape, null, v);
      }
      default -> throw bad(where, "element type '" + kind + width + "' is not supported (floats, integers, bool)");
    }
  }

  /** IEEE 754 binary16 to float32 (exact: every half is a float). */
  static float halfToFloat(short h) {
    int sign = (h >> 15) & 1;
    int exp = (h >> 10) & 0x1f;
    int mant = h & 0x3ff;
    float v;
    if (exp == 0) {
      v = mant * 0x1p-24f; // subnormal
    } else if (exp == 31) {
      v = mant == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
    } else {
      v = Float.intBitsToFloat(((exp - 15 + 127) << 23) | (mant << 13));
    }
    return sign == 1 ? -v : v;
  }

  private static byte[] readAll(InputStream in, String where) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[1 << 16];
    long total = 0;
    int r;
    while ((r = in.read(buf)) > 0) {
      total += r;
      if (total > Integer.MAX_VALUE - 64) {
        throw bad(where, "larger than 2 GiB");
      }
      out.write(buf, 0, r);
    }
    return out.toByteArray();
  }

  private static FoleyException bad(String where, String why) {
    return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, where + " is not a readable .npy array: " + why);
  }
}
