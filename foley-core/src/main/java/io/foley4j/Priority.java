package io.foley4j;

/** Scheduling priority of a request: HIGH before NORMAL before LOW, first-come first-served within one. */
public enum Priority { HIGH, NORMAL, LOW }
