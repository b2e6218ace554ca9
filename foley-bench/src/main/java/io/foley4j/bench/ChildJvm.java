package io.foley4j.bench;

import io.foley4j.cli.FoleyCli;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A benchmark's measured child: a fresh JVM running {@code foley ARGS} on this class path with this
 * JVM's own flags. Its output is echoed with a prefix, except the one line that starts with the
 * result marker, whose {@code key=value} words are returned.
 */
final class ChildJvm {
  private ChildJvm() {}

  static Map<String, String> run(String marker, String echoPrefix, List<String> foleyArgs) throws Exception {
    String javaCmd = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd = new ArrayList<>(List.of(javaCmd));
    cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()); // modules, heap
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), FoleyCli.class.getName()));
    cmd.addAll(foleyArgs);
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Map<String, String> result = null;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith(marker + " ")) {
          result = new HashMap<>();
          for (String kv : line.substring(marker.length() + 1).split(" ")) {
            String[] parts = kv.split("=", 2);
            result.put(parts[0], parts[1]);
          }
        } else {
          System.out.println(echoPrefix + line);
        }
      }
    }
    int rc = p.waitFor();
    if (rc != 0 || result == null) {
      throw new IllegalStateException("the child JVM failed (exit " + rc + "): " + String.join(" ", cmd));
    }
    return result;
  }
}
