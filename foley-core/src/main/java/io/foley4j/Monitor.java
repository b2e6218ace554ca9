package io.foley4j;

/**
 * The type of every object foley4j synchronizes on (besides its own classes), so that a check can
 * tell foley4j's monitors from the host's ({@link UserCode#assertNoFoleyLockHeld}) and know each
 * one's place in the lock order ({@link LockOrder}): one subclass per rank, since a thread's held
 * monitors are seen by their class.
 */
abstract class Monitor {
  private final String name;

  private Monitor(String name) {
    this.name = name;
  }

  /** A lock that others may be taken under (a job's progress). */
  static Monitor outer(String name) {
    return new Outer(name);
  }

  /** Device placement. */
  static Monitor placement(String name) {
    return new Placement(name);
  }

  /** The running batch of a device. */
  static Monitor running(String name) {
    return new Running(name);
  }

  /** A lock under which no other foley4j lock is taken. */
  static Monitor leaf(String name) {
    return new Leaf(name);
  }

  @Override
  public String toString() {
    return "Monitor[" + name + "]";
  }

  static final class Outer extends Monitor {
    Outer(String name) {
      super(name);
    }
  }

  static final class Placement extends Monitor {
    Placement(String name) {
      super(name);
    }
  }

  static final class Running extends Monitor {
    Running(String name) {
      super(name);
    }
  }

  static final class Leaf extends Monitor {
    Leaf(String name) {
      super(name);
    }
  }
}
