package io.foley4j.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** What went wrong in an I/O exception, in words (NIO's own messages are often the path alone). */
final class IoErrors {
  private IoErrors() {}

  static String describe(IOException e) {
    String what;
    if (e instanceof NoSuchFileException) {
      what = "no such file or directory";
    } else if (e instanceof AccessDeniedException) {
      what = "permission denied";
    } else if (e instanceof FileAlreadyExistsException) {
      what = "it already exists";
    } else if (e instanceof NotDirectoryException) {
      what = "not a directory";
    } else if (e instanceof DirectoryNotEmptyException) {
      what = "directory not empty";
    } else if (e instanceof FileSystemException f && f.getReason() != null) {
      what = f.getReason();
    } else {
      what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
    if (e instanceof FileSystemException f && f.getFile() != null) {
      String on = f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile());
      if (!what.contains(on)) {
        what = what + " (" + on + ")";
      }
    }
    return what;
  }
}
