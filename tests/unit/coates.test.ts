// Convolutional image features in the app: the pure helpers (coates.ts), how a project
// with them reads its pool (pool.ts), its backup (version 3) and its model manifest.
import { describe, expect, test } from 'vitest';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { makeBackup, readBackup } from '../../www/app/backup';
import {
  COATES_MIN_IMAGES, coatesProblem, coatesWidth, defaultImageFeatures, describeImageFeatures, evenlySpaced, greyStack, imageFeaturesProblem, toGrey,
} from '../../www/app/coates';
import { modelManifest, modelZip } from '../../www/app/export';
import { featureWidth, pixelBytes, poolFeatures, usesStoredFeatures } from '../../www/app/pool';
import { featureChunks, type ImageFeatures, type ProjectRecord, type SampleRecord } from '../../www/app/store/db';

const coates: ImageFeatures = { kind: 'coates', centroids: 2, patch: 1, patches: 10, seed: 1, fittedOn: 3 };
const base: ProjectRecord = { id: 'a', name: 'shoes', kind: 'image', classNames: ['a', 'b'], width: 2, height: 1, channels: 1, createdAt: 5, current: null, history: [] };

describe('choosing and checking convolutional features', () => {
  test('every image size defaults to pretrained features (measured: docs/BENCHMARKS.md)', () => {
    for (const size of [28, 32, 64]) expect(defaultImageFeatures(size)).toBe('pretrained');
  });
  test('too few images, too small images and too few patches are refused with the numbers', () => {
    expect(coatesProblem(COATES_MIN_IMAGES, 28)).toBeNull();
    expect(coatesProblem(31, 28)).toBe(`convolutional features are learned from the images themselves and need at least ${COATES_MIN_IMAGES}; there are 31`);
    expect(coatesProblem(1, 28)).toMatch(/there is 1$/);
    expect(coatesProblem(500, 4)).toBe('the images are 4 px, smaller than the 6 px patches the features are learned from');
    expect(coatesProblem(500, 28, { centroids: 64, patch: 6, patches: 10 })).toBe('10 patches cannot make 64 filters');
  });
  test('width is 4 × centroids; words for the UI', () => {
    expect(coatesWidth({ centroids: 128 })).toBe(512);
    expect(describeImageFeatures(null)).toBe('raw pixels');
    expect(describeImageFeatures({ ...coates, centroids: 128, fittedOn: 2000 })).toBe('convolutional features (512 per image, learned from 2,000 of your images)');
  });
  test('colour becomes BT.601 grey (as the decoder does); grey is passed through', () => {
    expect(Array.from(toGrey(Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]), 3))).toEqual([76, 150, 29, 18]);
    const g = Uint8Array.from([1, 2]);
    expect(toGrey(g, 1)).toBe(g);
  });
  test('greyStack concatenates in order and names an image of the wrong size', () => {
    const s = [{ pixels: Uint8Array.from([1, 2, 3, 4]) }, { pixels: Uint8Array.from([5, 6, 7, 8]) }];
    expect(Array.from(greyStack(s, 2, 1))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => greyStack([...s, { pixels: new Uint8Array(3) }], 2, 1)).toThrow('image 3 has 3 pixel bytes, expected 4');
  });
  test('evenlySpaced covers the range, all when k ≥ n', () => {
    expect(evenlySpaced(10, 4)).toEqual([0, 2, 5, 7]);
    expect(evenlySpaced(3, 5)).toEqual([0, 1, 2]);
  });
  test('stored settings are checked', () => {
    expect(imageFeaturesProblem(undefined)).toBeNull();
    expect(imageFeaturesProblem(coates)).toBeNull();
    expect(imageFeaturesProblem({ ...coates, kind: 'vgg' })).toBe('image features of kind vgg are not known');
    expect(imageFeaturesProblem({ ...coates, centroids: 1.5 })).toBe('image features: centroids is not a whole number');
    expect(imageFeaturesProblem({ ...coates, centroids: 0 })).toBe('image features: no centroids');
    const pretrained = { kind: 'pretrained', encoder: 'efficientnet-lite0/1 f16 224px', size: 224, dim: 1280 };
    expect(imageFeaturesProblem(pretrained)).toBeNull();
    expect(imageFeaturesProblem({ ...pretrained, encoder: '' })).toBe('image features: the encoder is not named');
    expect(imageFeaturesProblem({ ...pretrained, size: 1024 })).toBe('image features: the encoder size is not 32 to 512 pixels');
    expect(imageFeaturesProblem({ ...pretrained, dim: 0 })).toBe('image features: no width');
    expect(featureWidth({ kind: 'image', width: 32, height: 32, channels: 3, imageFeatures: pretrained as never })).toBe(1280);
    expect(describeImageFeatures(pretrained as never)).toMatch(/^pretrained features \(1,280 per image from efficientnet-lite0/);
  });
});

describe('the pool of a project with convolutional features', () => {
  const samples: SampleRecord[] = [
    { project: 'a', id: 0, pixels: Uint8Array.from([0, 255]), truth: null, split: 'pool', source: null },
    { project: 'a', id: 1, pixels: Uint8Array.from([51, 0]), truth: null, split: 'pool', source: null },
  ];
  test('pixels: bytes / 255; convolutional: the stored rows, 4 × centroids wide', () => {
    expect(featureWidth(base)).toBe(2);
    expect(Array.from(poolFeatures(base, samples))).toEqual(Array.from(Float32Array.from([0, 1, 0.2, 0])));
    const p = { ...base, imageFeatures: coates };
    expect(featureWidth(p)).toBe(8);
    expect(pixelBytes(p)).toBe(2);
    expect(usesStoredFeatures(p)).toBe(true);
    expect(usesStoredFeatures(base)).toBe(false);
    const rows = new Map([[0, new Float32Array(8).fill(1)], [1, new Float32Array(8).fill(2)]]);
    expect(Array.from(poolFeatures(p, [samples[1], samples[0]], rows))).toEqual([...Array(8).fill(2), ...Array(8).fill(1)]);
  });
});

describe('feature chunks of samples added later', () => {
  test('start at the first new id; rows stay in order', () => {
    const c = featureChunks('p', Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 1030);
    expect(c).toEqual([{ project: 'p', start: 1030, rows: 3, width: 2, data: Float32Array.from([1, 2, 3, 4, 5, 6]) }]);
    expect(featureChunks('p', new Float32Array(2 * 1025), 2, 7).map((k) => [k.start, k.rows])).toEqual([[7, 1024], [1031, 1]]);
  });
});

describe('backup of an image project with convolutional features (version 3)', () => {
  const p: ProjectRecord = { ...base, imageFeatures: coates, featurizer: Uint8Array.from([4, 5, 6]) };
  const samples: SampleRecord[] = [
    { project: 'a', id: 0, pixels: Uint8Array.from([3, 4]), truth: null, split: 'pool', source: 'x/0.png' },
    { project: 'a', id: 1, pixels: Uint8Array.from([1, 2]), truth: null, split: 'pool', source: 'x/1.png' },
  ];
  const chunks = featureChunks('a', Float32Array.from([0.5, -1, 3e-8, 7, 1, 2, 3, 4, -0.25, 0, 0, 0, 1e6, 2, 2, 2]), 8);
  const labels = [{ project: 'a', sampleId: 1, label: 0, labelledAt: 9 }];
  test('pixels, features (bit for bit), settings, featurizer and labels come back', async () => {
    const zip = await makeBackup(p, samples, labels, chunks);
    expect(JSON.parse(strFromU8(unzipSync(zip)['marginalia-backup.json'])).version).toBe(3);
    const r = readBackup(zip, 'b');
    expect(r.project).toEqual({ ...p, id: 'b' });
    expect(r.samples).toEqual(samples.map((s) => ({ ...s, project: 'b' })));
    expect(r.features).toEqual(chunks.map((c) => ({ ...c, project: 'b' })));
    expect(r.labels).toEqual([{ ...labels[0], project: 'b' }]);
  });
  test('missing features or featurizer, damaged settings, and unknown versions are refused', async () => {
    await expect(makeBackup(p, samples, labels)).rejects.toThrow(/sample 0 has no stored features/);
    const e = unzipSync(await makeBackup(p, samples, labels, chunks));
    const { 'featurizer.bin': _f, ...noFz } = e;
    expect(() => readBackup(zipSync(noFz), 'b')).toThrow(/featurizer.bin .* is missing/);
    expect(() => readBackup(zipSync({ ...e, 'features.bin': new Uint8Array(8) }), 'b')).toThrow('features.bin has 8 bytes, expected 2 × 8 × 4');
    const m = JSON.parse(strFromU8(e['marginalia-backup.json']));
    const bad = (patch: object) => zipSync({ ...e, 'marginalia-backup.json': strToU8(JSON.stringify({ ...m, ...patch })) });
    expect(() => readBackup(bad({ project: { ...m.project, imageFeatures: { ...coates, kind: 'x' } } }), 'b')).toThrow('backup is damaged: image features of kind x are not known');
    expect(() => readBackup(bad({ version: 4 }), 'b')).toThrow('backup version 4 is not one this page reads (1 to 3)');
  });
  test('a version 2 image backup (pixels only) still restores as pixels', async () => {
    const e = unzipSync(await makeBackup(base, samples, labels));
    const m = JSON.parse(strFromU8(e['marginalia-backup.json']));
    const r = readBackup(zipSync({ ...e, 'marginalia-backup.json': strToU8(JSON.stringify({ ...m, version: 2 })) }), 'c');
    expect(r.project).toEqual({ ...base, id: 'c' });
    expect(r.features).toEqual([]);
    expect(e['features.bin']).toBeUndefined();
  });
});

describe('model export of a project with convolutional features', () => {
  test('model.json records the featurization; featurizer.bin rides along', () => {
    const p: ProjectRecord = { ...base, width: 28, height: 28, channels: 3, imageFeatures: { ...coates, centroids: 128 }, featurizer: Uint8Array.from([1, 2]) };
    const m = modelManifest(p, { kind: 'softmax', width: 512 }, 'auto', 30, new Date(0));
    expect(m.features.width).toBe(512);
    expect(m.features.coates).toMatchObject({ centroids: 128, patch: 1, patches: 10, seed: 1, fittedOn: 3 });
    expect(m.features.coates!.grey).toMatch(/0\.299 R \+ 0\.587 G \+ 0\.114 B/);
    expect(m.features.image!.scaling).not.toMatch(/\/ 255/);
    expect(m.files['featurizer.bin']).toMatch(/CoatesFeaturizer.restore/);
    const z = unzipSync(modelZip(Uint8Array.from([9]), m, p.featurizer));
    expect(Array.from(z['featurizer.bin'])).toEqual([1, 2]);
    // A pixel project's zip has no featurizer, and its manifest no coates section.
    const plain = modelManifest(base, { kind: 'softmax', width: 2 }, 'auto', 30, new Date(0));
    expect(plain.features.coates).toBeUndefined();
    expect(Object.keys(unzipSync(modelZip(Uint8Array.from([9]), plain, null))).sort()).toEqual(['model.bin', 'model.json']);
  });
});

describe('where the features are encoded', () => {
  test('the address can force the CPU or WebGPU; anything else is auto', async () => {
    const { coatesBackend, encodedWhere } = await import('../../www/app/image-features');
    expect(coatesBackend('?coates=cpu')).toBe('cpu');
    expect(coatesBackend('?x=1&coates=webgpu')).toBe('webgpu');
    expect(coatesBackend('?coates=gpu')).toBe('auto');
    expect(coatesBackend('')).toBe('auto');
    expect(encodedWhere({ backend: 'webgpu', adapter: 'NVIDIA H100', why: null })).toBe('on the GPU (NVIDIA H100)');
    expect(encodedWhere({ backend: 'cpu', adapter: null, why: 'no WebGPU adapter is available' })).toBe('on the CPU (no WebGPU adapter is available)');
    expect(encodedWhere({ backend: 'cpu', adapter: null, why: null })).toBe('on the CPU');
  });
});
