/**
 * Internal: the device scheduler that batches backend calls across jobs, its batch policy, the
 * circuit breaker and the token bucket (semantics in docs/scheduling.md). {@link
 * io.foley4j.schedule.Ticker} is the one type here that applications use, to inject a clock.
 */
package io.foley4j.schedule;
