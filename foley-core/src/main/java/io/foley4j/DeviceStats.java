package io.foley4j;

/**
 * One device of an engine at the moment of a {@link EngineStats} snapshot. Immutable.
 *
 * @param index the device's place in the builder's list (0 for a single backend)
 * @param name the backend's name ("cpu", "cuda:1")
 * @param segmentsInFlight segments placed on it now (their denoiser loop or VAE call)
 * @param capacity most segments it takes at once, from its memory budget and
 *     {@code maxSegmentsPerDevice}; -1 for no limit
 * @param homes running jobs whose text and encoder calls it runs
 * @param segmentsPlaced segments placed on it since build
 * @param queuedItems work items waiting in its scheduler, all stages
 * @param calls backend calls it ran since build
 * @param busyNanos time it spent inside the backend since build
 * @param utilization busy time ÷ wall time since build, in [0, 1]
 * @param memoryReservedBytes estimated bytes of the segments in flight
 * @param memoryBudgetBytes bytes segments may hold at once (90 % of the free memory after loading);
 *     -1 when the backend reports no memory
 * @param freeMemoryAtBuildBytes free memory the backend reported after loading; -1 unknown
 * @param breaker its circuit breaker's state
 */
public record DeviceStats(int index, String name, int segmentsInFlight, int capacity, int homes, long segmentsPlaced,
    int queuedItems, long calls, long busyNanos, double utilization, long memoryReservedBytes, long memoryBudgetBytes,
    long freeMemoryAtBuildBytes, EngineStats.BreakerState breaker) {}
