/**
 * Small runnable programs showing a host how to embed foley4j, each with a {@code main} that uses
 * the built-in reference model and a synthetic clip: {@link io.foley4j.examples.StreamingExample}
 * (a {@code FoleyListener}), {@link io.foley4j.examples.FlowSubscriberExample} (a {@code
 * Flow.Subscriber}), {@link io.foley4j.examples.CachesExample} (foley-cache stores), {@link
 * io.foley4j.examples.DevicesExample} (several devices) and {@link
 * io.foley4j.examples.GpuFallbackExample} (a GPU backend with CPU fallback).
 */
package io.foley4j.examples;
