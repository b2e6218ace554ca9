package io.foley4j.gpu;

import io.foley4j.bundle.StageSpec;
import io.foley4j.bundle.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * TensorRT optimization profiles for one stage, in the strings ONNX Runtime's TensorRT provider
 * reads ({@code trt_profile_min_shapes} / {@code _opt_} / {@code _max_}: {@code name:AxBxC}, one
 * entry per input per profile; an input named again starts the next profile).
 *
 * <p>Fixed dimensions are fixed in every profile. The batch axis and every symbolic length axis
 * are split into buckets: bucket {@code k} covers the sizes after bucket {@code k-1} up to its own
 * size, with its own size as the optimum, so every size up to the largest bucket falls in exactly
 * one profile (the engine's batches are not always a bucket's size). The profiles are the
 * combinations of the batch buckets and each length axis's buckets.
 */
record TrtProfiles(String min, String opt, String max, int count) {

  /** One profile's range for one symbolic axis. */
  private record Range(long min, long opt) {}

  static TrtProfiles of(StageSpec spec, List<Integer> batchBuckets, Map<String, List<Long>> lengthBuckets) {
    // the symbolic axes this stage has, in order of first appearance (the batch first)
    List<String> axes = new ArrayList<>();
    axes.add("batch");
    for (TensorSpec t : spec.inputs()) {
      for (int i = 1; i < t.rank(); i++) {
        if (t.dim(i) < 0) {
          String symbol = t.symbol(i).orElse(null);
          if (symbol == null || !lengthBuckets.containsKey(symbol)) {
            throw new io.foley4j.FoleyException(io.foley4j.FoleyException.Code.INVALID_ARGUMENT, "stage "
                + spec.stage().key() + " input " + t + " has the symbolic dimension " + (symbol == null ? "#" + i : "'"
                + symbol + "'") + " but the TensorRT backend has no length buckets for it; give them with"
                + " TensorRtBackend.Builder.lengthBuckets(\"" + (symbol == null ? "?" : symbol) + "\", ...) (the sizes the"
                + " engine will run, e.g. the trained segment's)");
          }
          if (!axes.contains(symbol)) {
            axes.add(symbol);
          }
        }
      }
    }
    List<List<Range>> perAxis = new ArrayList<>();
    perAxis.add(ranges(batchBuckets.stream().map(Integer::longValue).toList()));
    for (int a = 1; a < axes.size(); a++) {
      perAxis.add(ranges(lengthBuckets.get(axes.get(a))));
    }
    StringBuilder min = new StringBuilder();
    StringBuilder opt = new StringBuilder();
    StringBuilder max = new StringBuilder();
    int[] pick = new int[axes.size()];
    int count = 0;
    while (true) {
      for (TensorSpec t : spec.inputs()) {
        StringBuilder mn = new StringBuilder(t.name()).append(':');
        StringBuilder op = new StringBuilder(t.name()).append(':');
        StringBuilder mx = new StringBuilder(t.name()).append(':');
        for (int i = 0; i < t.rank(); i++) {
          String sep = i == 0 ? "" : "x";
          long lo;
          long hi;
          if (t.dim(i) >= 0) {
            lo = hi = t.dim(i);
          } else {
            int a = i == 0 ? 0 : axes.indexOf(t.symbol(i).orElseThrow());
            Range r = perAxis.get(a).get(pick[a]);
            lo = r.min();
            hi = r.opt();
          }
          mn.append(sep).append(lo);
          op.append(sep).append(hi);
          mx.append(sep).append(hi);
        }
        for (StringBuilder[] pair : new StringBuilder[][] {{min, mn}, {opt, op}, {max, mx}}) {
          pair[0].append(pair[0].length() > 0 ? "," : "").append(pair[1]);
        }
      }
      count++;
      int a = axes.size() - 1;
      while (a >= 0 && ++pick[a] == perAxis.get(a).size()) {
        pick[a] = 0;
        a--;
      }
      if (a < 0) {
        break;
      }
    }
    return new TrtProfiles(min.toString(), opt.toString(), max.toString(), count);
  }

  private static List<Range> ranges(List<Long> buckets) {
    List<Range> out = new ArrayList<>();
    long previous = 0;
    for (long b : new TreeSet<>(buckets)) {
      out.add(new Range(previous + 1, b));
      previous = b;
    }
    return out;
  }
}
