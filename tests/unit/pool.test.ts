import { describe, expect, test } from 'vitest';
import { labelProblem, pixelsToFeatures, sampleProblem } from '../../www/app/pool';

const good = { project: 'p', id: 3, pixels: new Uint8Array(4), truth: 1, split: 'pool', source: null };

describe('stored record validation', () => {
  test('a good sample passes, with or without a dataset label', () => {
    expect(sampleProblem(good, 4, 2)).toBeNull();
    expect(sampleProblem({ ...good, truth: null }, 4, 2)).toBeNull();
  });
  test.each([
    [null, 'not an object'],
    [{ ...good, id: -1 }, 'id is not a non-negative integer'],
    [{ ...good, pixels: 'x' }, 'pixels are missing or not bytes'],
    [{ ...good, pixels: new Uint8Array(3) }, 'has 3 pixel bytes, expected 4'],
    [{ ...good, truth: 2 }, 'dataset label 2 is not a class index below 2'],
    [{ ...good, split: 'train' }, "split train is neither 'pool' nor 'test'"],
    [{ ...good, split: 'test', truth: null }, 'a held-out sample without a dataset label'],
  ])('bad sample %#', (rec, why) => {
    expect(sampleProblem(rec, 4, 2)).toBe(why);
  });
  test('labels must name a known sample and a class', () => {
    const ids = new Set([1, 2]);
    expect(labelProblem({ sampleId: 1, label: 0, labelledAt: 0 }, ids, 3)).toBeNull();
    expect(labelProblem({ sampleId: 9, label: 0 }, ids, 3)).toBe('sample 9 is not in the pool');
    expect(labelProblem({ sampleId: 1, label: 3 }, ids, 3)).toBe('label 3 is not a class index below 3');
    expect(labelProblem({ sampleId: 'a', label: 0 }, ids, 3)).toBe('sampleId is not an integer');
  });
});

test('pixels scale to [0,1], row-major', () => {
  const f = pixelsToFeatures([{ pixels: Uint8Array.from([0, 255]) }, { pixels: Uint8Array.from([51, 102]) }], 2);
  expect(Array.from(f)).toEqual([0, 1, 0.2, 0.4].map((v) => Math.fround(v)));
});
