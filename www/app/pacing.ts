// When to retrain while a person labels: pure functions, unit-tested (tests/unit/pacing.test.ts).
//
// Why: on a small machine the worker's retraining competes with the page for the CPU, and
// the keypress → next sample time suffers when a key comes while a retrain runs (measured
// by bench/latency.mjs, which splits its figures on exactly that; docs/BENCHMARKS.md
// "Labelling latency"). So a retrain is timed to fit between two labels:
//
// - When the last round took less than the person's usual time between labels, retrain
//   right after the label (once its next sample is painted): it is done before the next
//   key comes.
// - When rounds cost more than that (early on, the default strategy's TypiClust runs
//   k-means over the pool: seconds on a 10k pool), wait for a pause in the labelling as
//   long as a round, so the worker does not run all the time. Those rounds choose a whole
//   batch of typical, diverse samples at once, so retraining after every label buys little.
// - Whatever the cost, when the queue of picks runs low, retrain after the base pause, so
//   the person never runs out of chosen samples.

/** Quiet time after a label before retraining starts, when nothing better is known. */
export const REFIT_PAUSE_MS = 150;
/** Time for the label's next sample to be drawn before a retrain starts. */
export const PAINT_MS = 50;
/** The longest a retrain waits for a pause in the labelling. */
export const MAX_REFIT_PAUSE_MS = 3000;
/** Gaps between labels longer than this are breaks, not the person's pace. */
export const BREAK_MS = 5000;

/**
 * Milliseconds of quiet (no new label) to wait before the next retrain. `fresh`: queued
 * picks not yet labelled or skipped; `queue`: the queue's length; `lastRoundMs`: how long
 * the last retrain took, seen from the page; `paceMs`: the person's usual time between
 * labels (null until known).
 */
export function refitPause(fresh: number, queue: number, lastRoundMs: number, paceMs: number | null = null): number {
  // Running low: retrain soon, whatever it costs, so the next picks are ready in time.
  if (fresh <= lowWater(queue)) return REFIT_PAUSE_MS;
  // Fits between two labels, with the paint before and a margin after: start now.
  if (paceMs != null && PAINT_MS + lastRoundMs * 1.25 < paceMs) return PAINT_MS;
  return Math.min(MAX_REFIT_PAUSE_MS, Math.max(REFIT_PAUSE_MS, Math.round(lastRoundMs)));
}

/** Queued picks at or below which the queue counts as running low. */
export function lowWater(queue: number): number {
  return Math.max(2, Math.floor(queue / 3));
}

/**
 * Whether a retrain that waits for a pause in the labelling must start now although
 * another label just came. Waiting is only worth it while there are picks to go on with:
 * a person labelling faster than a round (a key every 25 ms) never pauses, and a retrain
 * that waited for one would never come (active learning silently off). So it starts when
 * the queue runs low, or once it has waited its longest.
 */
export function mustRefitNow(fresh: number, queue: number, waitedMs: number): boolean {
  return fresh <= lowWater(queue) || waitedMs >= MAX_REFIT_PAUSE_MS;
}

/** The most picks one round queues, whatever the pace. */
export const MAX_QUEUE = 240;

/**
 * Picks to queue per round so that the person does not run out before the next round
 * comes back: at least `base`, and enough for two rounds at the person's pace.
 */
export function picksToQueue(base: number, lastRoundMs: number, paceMs: number | null): number {
  if (paceMs == null || !(paceMs > 0) || !(lastRoundMs > 0)) return base;
  return Math.min(MAX_QUEUE, Math.max(base, Math.ceil((2 * lastRoundMs) / paceMs) + lowWater(base)));
}

/**
 * The person's pace: an exponential moving average of the time between labels (weight
 * 0.3 for the newest), breaks left out.
 */
export function nextPace(pace: number | null, gapMs: number): number | null {
  if (!(gapMs > 0) || gapMs > BREAK_MS) return pace;
  return pace == null ? gapMs : 0.7 * pace + 0.3 * gapMs;
}
