/**
 * Internal: the engine behind {@link io.foley4j.FoleyEngine} (jobs, segment plans, feature
 * extraction, the sampler loop, stitching, cache keys, single-flight). Public types here are not
 * part of the API and may change in any release.
 */
package io.foley4j.pipeline;
