import { describe, expect, test } from 'vitest';
import { BREAK_MS, MAX_QUEUE, MAX_REFIT_PAUSE_MS, PAINT_MS, REFIT_PAUSE_MS, mustRefitNow, nextPace, picksToQueue, refitPause } from '../../www/app/pacing';

describe('retrain pacing', () => {
  test('pace unknown, cheap rounds: the base pause', () => {
    expect(refitPause(20, 24, 40)).toBe(REFIT_PAUSE_MS);
  });
  test('a round that fits between two labels starts once the next sample is painted', () => {
    expect(refitPause(20, 24, 200, 430)).toBe(PAINT_MS); // 50 + 250 < 430
    expect(refitPause(20, 24, 320, 430)).toBe(320); // 50 + 400 ≥ 430: wait for a pause
  });
  test('costly rounds wait for a pause as long as the last round took, capped', () => {
    expect(refitPause(20, 24, 900, 430)).toBe(900);
    expect(refitPause(20, 24, 20_000, 430)).toBe(MAX_REFIT_PAUSE_MS);
  });
  test('a queue running low retrains soon whatever it costs', () => {
    expect(refitPause(8, 24, 2000, 430)).toBe(REFIT_PAUSE_MS);
    expect(refitPause(9, 24, 2000, 430)).toBe(2000);
    expect(refitPause(2, 4, 2000)).toBe(REFIT_PAUSE_MS);
    expect(refitPause(0, 24, 0)).toBe(REFIT_PAUSE_MS);
  });
  test('the pace follows the gaps between labels, breaks left out', () => {
    expect(nextPace(null, 400)).toBe(400);
    expect(nextPace(400, 500)).toBeCloseTo(430);
    expect(nextPace(400, BREAK_MS + 1)).toBe(400);
    expect(nextPace(null, -3)).toBeNull();
  });
});

describe('a fast labeller never starves the learner', () => {
  test('a label during the wait postpones a retrain only while picks are left and not for long', () => {
    expect(mustRefitNow(20, 24, 100)).toBe(false); // plenty queued, short wait: wait for a pause
    expect(mustRefitNow(8, 24, 100)).toBe(true); // running low
    expect(mustRefitNow(20, 24, MAX_REFIT_PAUSE_MS)).toBe(true); // waited its longest
  });
  test('rounds queue enough picks to last two rounds at the person’s pace', () => {
    expect(picksToQueue(24, 0, null)).toBe(24);
    expect(picksToQueue(24, 100, 400)).toBe(24); // slow labeller: the base queue
    expect(picksToQueue(24, 500, 25)).toBe(48); // 25 ms a key, 500 ms rounds: 40 + 8
    expect(picksToQueue(24, 60_000, 10)).toBe(MAX_QUEUE);
  });
});
