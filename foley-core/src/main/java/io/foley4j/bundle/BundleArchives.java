package io.foley4j.bundle;

import io.foley4j.InvalidBundleException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import org.apache.commons.compress.archivers.ArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/** Safe extraction of bundle archives: no path escapes, no links or special files, bounded size. */
final class BundleArchives {
  enum Kind { TAR_GZ, ZIP }

  /** Most entries an archive may hold; a bundle has about eight files. */
  static final int MAX_ENTRIES = 10_000;

  private BundleArchives() {}

  static void extract(Path archive, Kind kind, Path dest, long maxBytes) throws IOException {
    Extractor x = new Extractor(archive, dest.toAbsolutePath().normalize(), maxBytes);
    if (kind == Kind.ZIP) {
      // ZipFile reads the central directory, the only place that records Unix links.
      ZipFile zip;
      try {
        zip = ZipFile.builder().setPath(archive).get();
      } catch (IOException e) {
        throw new InvalidBundleException("bundle archive " + archive + " is not a valid zip archive: " + e.getMessage(), e);
      }
      try (zip) {
        var entries = zip.getEntries();
        while (entries.hasMoreElements()) {
          ZipArchiveEntry e = entries.nextElement();
          try (InputStream in = e.isDirectory() ? InputStream.nullInputStream() : zip.getInputStream(e)) {
            x.entry(e, in);
          }
        }
      }
    } else {
      try (InputStream raw = new BufferedInputStream(Files.newInputStream(archive));
          TarArchiveInputStream in = openTar(archive, raw)) {
        TarArchiveEntry e;
        while ((e = in.getNextEntry()) != null) {
          x.entry(e, in);
        }
      }
    }
    if (x.count == 0) {
      throw new InvalidBundleException("bundle archive " + archive + " is empty or not a " + kind + " archive");
    }
  }

  private static TarArchiveInputStream openTar(Path archive, InputStream raw) throws IOException {
    try {
      return new TarArchiveInputStream(new GzipCompressorInputStream(raw));
    } catch (IOException e) {
      throw new InvalidBundleException("bundle archive " + archive + " is not a valid .tar.gz: " + e.getMessage(), e);
    }
  }

  /** Writes entries below one root, counting entries and bytes. */
  private static final class Extractor {
    final Path archive;
    final Path root;
    final long maxBytes;
    long total;
    int count;

    Extractor(Path archive, Path root, long maxBytes) {
      this.archive = archive;
      this.root = root;
      this.maxBytes = maxBytes;
    }

    void entry(ArchiveEntry e, InputStream in) throws IOException {
      if (++count > MAX_ENTRIES) {
        throw new InvalidBundleException("bundle archive " + archive + " has more than " + MAX_ENTRIES + " entries");
      }
      String name = e.getName();
      checkType(archive, e);
      Path target = root.resolve(name).normalize();
      if (name.startsWith("/") || name.contains("\\") || name.contains("\0") || !target.startsWith(root)
          || target.equals(root) && !e.isDirectory()) {
        throw new InvalidBundleException("bundle archive " + archive + " has an entry \"" + name
            + "\" that would be written outside the extraction directory (path traversal); refusing to extract it");
      }
      if (e.isDirectory()) {
        Files.createDirectories(target);
        return;
      }
      // The sizes an archive declares can lie (the bytes written are counted below), but an entry
      // that declares more than what is left is refused before a byte of it is written.
      long declared = e.getSize();
      if (declared > maxBytes - total) {
        throw overLimit("its entry \"" + name + "\" declares " + declared + " bytes, more than the "
            + (maxBytes - total) + " bytes left of");
      }
      Files.createDirectories(target.getParent());
      try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW)) {
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
          total += n;
          if (total > maxBytes) {
            throw overLimit("entry \"" + name + "\" takes it to more than");
          }
          out.write(buf, 0, n);
        }
      } catch (FileAlreadyExistsException dup) {
        throw new InvalidBundleException("bundle archive " + archive + " contains \"" + name + "\" twice");
      }
    }

    /** Refuses an archive that extracts to more than {@code maxBytes}, with the numbers. */
    InvalidBundleException overLimit(String what) {
      return new InvalidBundleException("bundle archive " + archive + " extracts to more than the limit: " + what
          + " the limit of " + maxBytes + " bytes (" + total + " bytes written so far, entry " + count + "). A real"
          + " bundle is at most a few tens of GB; if this one is genuine, raise the limit (ModelBundle.open(path,"
          + " maxExtractedBytes), foley --max-extracted-bytes), otherwise it is an archive bomb or not a bundle");
    }
  }

  private static void checkType(Path archive, ArchiveEntry e) {
    boolean link = false;
    boolean special = false;
    if (e instanceof TarArchiveEntry t) {
      link = t.isSymbolicLink() || t.isLink();
      special = t.isCharacterDevice() || t.isBlockDevice() || t.isFIFO() || !(t.isFile() || t.isDirectory());
    } else if (e instanceof ZipArchiveEntry z) {
      link = z.isUnixSymlink();
    }
    if (link) {
      throw new InvalidBundleException("bundle archive " + archive + " has a link entry \"" + e.getName()
          + "\"; bundles may contain only regular files and directories");
    }
    if (special) {
      throw new InvalidBundleException("bundle archive " + archive + " has a special-file entry \"" + e.getName() + "\"");
    }
  }

  static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.delete(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
          Files.delete(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      System.getLogger("io.foley4j.bundle").log(System.Logger.Level.WARNING,
          "could not delete temporary bundle directory " + dir + ": " + e);
    }
  }

}
