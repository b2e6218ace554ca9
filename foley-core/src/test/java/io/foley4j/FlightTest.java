package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Single-flight bookkeeping: stopping is atomic with joining, and nobody inherits another's stop. */
class FlightTest {
  private static final FoleyRequest REQUEST = FoleyRequest.of(Path.of("never-read.mp4"), "x");

  private static Job job(long id) {
    return new Job(id, REQUEST, null, Ticker.system());
  }

  @Test
  void onceStoppedNoJobCanJoin() {
    Job leader = job(1);
    Flight f = new Flight("k", leader);
    leader.cancel();
    assertTrue(f.stopIfAllDone(), "nobody wants it: it stops");
    assertFalse(f.join(job(2)), "a later identical job computes on its own");
  }

  @Test
  void aJobThatJoinedBeforeTheStopIsHandedBackNotDropped() {
    Job leader = job(1);
    Flight f = new Flight("k", leader);
    Job joiner = job(2);
    assertTrue(f.join(joiner));
    leader.cancel();
    assertNull(f.stopReason(), "the joiner still wants the result");
    assertFalse(f.stopIfAllDone());
    assertEquals(List.of(joiner), f.closeAndTakeUnfinished(), "the joiner is handed back to run again");
    assertFalse(f.join(job(3)), "closed to joiners");
    assertFalse(joiner.isDone(), "handing back does not fail it");
  }

  @Test
  void stopReasonIsNeverAnotherJobsOwn() {
    Job leader = job(1);
    Flight f = new Flight("k", leader);
    leader.cancel();
    assertInstanceOf(RequestRun.StopJob.class, f.stopReason());
  }
}
