package io.foley4j;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The single-flight table: the computations in flight by content key, so that an identical request
 * joins the one already running instead of starting its own. Lock-free (a concurrent map); a
 * flight's own monitor decides whether a join still can happen.
 */
final class Flights {
  private final Map<String, Flight> byKey = new ConcurrentHashMap<>();

  /**
   * Joins the computation already running for {@code key} (returns null: the job is served by it)
   * or registers a new one led by {@code job}.
   */
  Flight joinOrLead(String key, Job job) {
    Flight mine = new Flight(key, job);
    while (true) {
      Flight other = byKey.putIfAbsent(key, mine);
      if (other == null) {
        return mine;
      }
      if (other.join(job)) {
        return null;
      }
      byKey.remove(key, other); // it finished meanwhile; take its place
    }
  }

  /** Takes {@code f} out of the table, so later identical requests start afresh. */
  void end(Flight f) {
    if (f.key != null) {
      byKey.remove(f.key, f);
    }
  }

  /** Flights in the table now. */
  int size() {
    return byKey.size();
  }
}
