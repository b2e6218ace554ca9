package io.foley4j;

/**
 * The type of every object foley4j synchronizes on (besides its own classes), so that a check can
 * tell foley4j's monitors from the host's: see {@link UserCode#assertNoFoleyLockHeld}.
 */
final class Monitor {
  private final String name;

  Monitor(String name) {
    this.name = name;
  }

  @Override
  public String toString() {
    return "Monitor[" + name + "]";
  }
}
