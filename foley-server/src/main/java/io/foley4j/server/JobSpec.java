package io.foley4j.server;

import io.foley4j.FoleyRequest;
import io.foley4j.Priority;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A job as the API received it, before it meets an engine: what a stream entry carries to another
 * node. {@code steps} 0 and {@code cfg} NaN mean the bundle's defaults; null prompts mean unset.
 */
record JobSpec(String id, String key, String prompt, String negativePrompt, int steps, double cfg, long seed,
    Priority priority, String client, String webhook) {

  /** The upload's file name under the uploads directory. */
  String videoName() {
    return id + ".mp4";
  }

  FoleyRequest toRequest(Path uploads) {
    FoleyRequest.Builder b = FoleyRequest.builder(uploads.resolve(videoName())).seed(seed).priority(priority)
        .clientId(client);
    if (prompt != null) {
      b.prompt(prompt);
    }
    if (negativePrompt != null) {
      b.negativePrompt(negativePrompt);
    }
    if (steps > 0) {
      b.steps(steps);
    }
    if (!Double.isNaN(cfg)) {
      b.cfgScale(cfg);
    }
    return b.build();
  }

  Map<String, String> toFields() {
    Map<String, String> m = new HashMap<>();
    m.put("id", id);
    m.put("key", key);
    if (prompt != null) {
      m.put("prompt", prompt);
    }
    if (negativePrompt != null) {
      m.put("negative_prompt", negativePrompt);
    }
    m.put("steps", Integer.toString(steps));
    m.put("cfg", Double.toString(cfg));
    m.put("seed", Long.toString(seed));
    m.put("priority", priority.name());
    m.put("client", client);
    if (webhook != null) {
      m.put("webhook", webhook);
    }
    return m;
  }

  static JobSpec fromFields(Map<String, String> m) {
    return new JobSpec(m.get("id"), m.get("key"), m.get("prompt"), m.get("negative_prompt"),
        Integer.parseInt(m.get("steps")), Double.parseDouble(m.get("cfg")), Long.parseLong(m.get("seed")),
        Priority.valueOf(m.get("priority")), m.get("client"), m.get("webhook"));
  }
}
