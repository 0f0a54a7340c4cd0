import { describe, expect, test } from 'vitest';
import { DEFAULT_SETTINGS, estimateDue, mergeHistory, queueLength, scoringText, settingsProblem } from '../../www/app/settings';
import { modelManifest } from '../../www/app/export';
import type { ProjectRecord } from '../../www/app/store/db';

const NAMES = ['random', 'margin', 'auto'];

describe('settings are checked before use', () => {
  test('the defaults and a valid choice pass', () => {
    expect(settingsProblem(DEFAULT_SETTINGS, NAMES)).toBeNull();
    expect(settingsProblem({ model: 'committee', strategy: 'margin', batchSize: 100 }, NAMES)).toBeNull();
    for (const backend of ['auto', 'webgpu', 'cpu'] as const) expect(settingsProblem({ ...DEFAULT_SETTINGS, backend }, NAMES)).toBeNull();
  });
  test.each([
    [null, /not an object/],
    [{ model: 'svm', strategy: 'auto', batchSize: 4 }, /model “svm”/],
    [{ model: 'mlp', strategy: 'bald', batchSize: 4 }, /strategy “bald” is not one this version knows/],
    [{ model: 'mlp', strategy: 'auto', batchSize: 0 }, /batch size 0/],
    [{ model: 'mlp', strategy: 'auto', batchSize: 2.5 }, /batch size 2.5/],
    [{ model: 'mlp', strategy: 'auto', batchSize: 101 }, /from 1 to 100/],
    [{ model: 'mlp', strategy: 'auto' }, /batch size undefined/],
    [{ model: 'mlp', strategy: 'auto', batchSize: 4, backend: 'gpu' }, /compute “gpu” is not one of auto, webgpu, cpu/],
  ])('%j is refused', (s, why) => {
    expect(settingsProblem(s, NAMES)).toMatch(why);
  });
});

describe('where the last round scored, in words', () => {
  const cpu = { backend: 'cpu' as const, asked: 'auto' as const, adapter: null };
  test.each([
    [{ ...cpu, why: 'small' as const }, 'CPU: round too small for the GPU to gain'],
    [{ ...cpu, why: 'software' as const }, 'CPU: the only WebGPU adapter is a software one, slower than the CPU'],
    [{ ...cpu, why: 'no-gpu' as const }, 'CPU: no WebGPU adapter'],
    [{ ...cpu, asked: 'webgpu' as const, why: 'no-gpu' as const }, 'CPU: no WebGPU adapter, so the GPU you chose cannot be used; carrying on on the CPU'],
    [{ ...cpu, asked: 'webgpu' as const, why: 'lost' as const }, 'CPU: the GPU was lost, carried on'],
    [{ ...cpu, asked: 'cpu' as const, why: 'cpu' as const }, 'CPU (chosen in the settings)'],
    [{ ...cpu, why: 'cold' as const }, 'CPU: no model yet (the first picks need no scoring)'],
    [{ ...cpu, why: 'model' as const }, 'CPU: this model and strategy are not scored on the GPU'],
    [{ backend: 'webgpu' as const, asked: 'auto' as const, why: null, adapter: 'SwiftShader Device (BrowserWebGpu, , )' }, 'GPU (WebGPU: SwiftShader Device)'],
    [{ backend: 'webgpu' as const, asked: 'webgpu' as const, why: null, adapter: ' (BrowserWebGpu, , )' }, 'GPU (WebGPU)'],
    [{ backend: 'webgpu' as const, asked: 'webgpu' as const, why: null, adapter: null }, 'GPU (WebGPU)'],
  ])('%j', (facts, words) => {
    expect(scoringText(facts)).toBe(words);
  });
});

describe('accuracy history', () => {
  test('held-out accuracy and the CV estimate at the same label count share one entry', () => {
    let h = mergeHistory([], 10, { accuracy: 0.5 });
    h = mergeHistory(h, 10, { cv: { mean: 0.6, se: 0.1 } });
    expect(h).toEqual([{ labels: 10, accuracy: 0.5, cv: { mean: 0.6, se: 0.1 } }]);
    h = mergeHistory(h, 12, { cv: { mean: 0.7, se: 0.05 } });
    expect(h).toEqual([
      { labels: 10, accuracy: 0.5, cv: { mean: 0.6, se: 0.1 } },
      { labels: 12, accuracy: null, cv: { mean: 0.7, se: 0.05 } },
    ]);
  });
  test('after an undo the curve restarts from the smaller count', () => {
    const h = mergeHistory([{ labels: 5, accuracy: 0.4 }, { labels: 9, accuracy: 0.6 }], 8, { accuracy: 0.55 });
    expect(h).toEqual([{ labels: 5, accuracy: 0.4 }, { labels: 8, accuracy: 0.55 }]);
  });
  test('estimates come every 5 labels, then every 10% more', () => {
    expect(estimateDue(1, null)).toBe(false);
    expect(estimateDue(2, null)).toBe(true);
    expect(estimateDue(6, 2)).toBe(false);
    expect(estimateDue(7, 2)).toBe(true);
    expect(estimateDue(104, 100)).toBe(false);
    expect(estimateDue(110, 100)).toBe(true);
    expect(estimateDue(1099, 1000)).toBe(false);
    expect(estimateDue(1100, 1000)).toBe(true);
    expect(estimateDue(50, 60)).toBe(true); // labels undone: measure again
  });
  test('the queue holds at least two batches', () => {
    expect(queueLength(24, 12)).toBe(24);
    expect(queueLength(24, 20)).toBe(40);
  });
});

describe('model manifest', () => {
  test('says what the model expects: width, classes, how pixels become features', () => {
    const p: ProjectRecord = { id: 'x', name: 'Shoes', kind: 'image', classNames: ['a', 'b'], width: 28, height: 28, channels: 1, createdAt: 0, current: null, history: [] };
    const m = modelManifest(p, { kind: 'softmax', width: 784 }, 'auto', 40, new Date(0));
    expect(m).toMatchObject({
      format: 'marginalia-model',
      version: 1,
      model: 'softmax',
      classNames: ['a', 'b'],
      features: { width: 784, input: 'image', image: { width: 28, height: 28, channels: 1 } },
      labels: 40,
      exportedAt: '1970-01-01T00:00:00.000Z',
    });
    expect(m.features.image!.scaling).toMatch(/\/ 255/);
  });
});
