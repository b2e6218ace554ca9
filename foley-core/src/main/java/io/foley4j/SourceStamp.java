package io.foley4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Objects;

/**
 * What a source video file looked like when a job read it: size, last-modified time and the file
 * key (device and inode on Unix) where the platform has one. {@link #check} fails if the file at
 * that path is no longer the same, so audio is never muxed onto a video it was not made for. It
 * cannot see a rewrite that keeps the size, the modification time and the inode (a tool that
 * restores the mtime); the duration check in foley-jcodec's {@code Mp4Outputs.writeVideoWithSound} backs it up.
 */
final class SourceStamp {
  private final long size;
  private final FileTime modified;
  private final Object fileKey;

  private SourceStamp(BasicFileAttributes a) {
    this.size = a.size();
    this.modified = a.lastModifiedTime();
    this.fileKey = a.fileKey();
  }

  /** The stamp of {@code video} now. */
  static SourceStamp of(Path video) {
    try {
      return new SourceStamp(Files.readAttributes(video, BasicFileAttributes.class));
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read the attributes of video " + video + ": " + e, e);
    }
  }

  /** The stamp of a file whose attributes were read when the job read it. */
  static SourceStamp of(BasicFileAttributes attributes) {
    return new SourceStamp(Objects.requireNonNull(attributes, "attributes"));
  }

  /** Fails with INVALID_ARGUMENT unless {@code video} is still the file this stamp was taken of. */
  void check(Path video) {
    BasicFileAttributes now;
    try {
      now = Files.readAttributes(video, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "source video " + video
          + " no longer exists; it is needed to write the video with sound: restore it or run the job again", e);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read the attributes of video " + video + ": " + e, e);
    }
    boolean sameKey = fileKey == null || fileKey.equals(now.fileKey());
    if (size != now.size() || !modified.equals(now.lastModifiedTime()) || !sameKey) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "source video " + video
          + " changed since the audio was generated (" + size + " bytes modified " + modified + ", now " + now.size()
          + " bytes modified " + now.lastModifiedTime() + (sameKey ? "" : ", another file") + "); the audio would "
          + "not match it: run the job again on the current file");
    }
  }

  @Override
  public String toString() {
    return "SourceStamp[" + size + " bytes, " + modified + ", " + fileKey + "]";
  }
}
