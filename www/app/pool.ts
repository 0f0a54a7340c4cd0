// Pure helpers for the demo pool: image bytes to features, validation of stored records.

/** A sample as stored in IndexedDB. */
export interface SampleRecord {
  id: number;
  /** Grey pixels, row-major, width × height bytes. */
  pixels: Uint8Array;
  /** The dataset's own label: used only for the fixed held-out split and its accuracy. */
  truth: number;
  /** Fixed at import: 'pool' samples are labelled by the person, 'test' ones measure accuracy. */
  split: 'pool' | 'test';
}

/** A label as stored in IndexedDB. */
export interface LabelRecord {
  sampleId: number;
  label: number;
  labelledAt: number;
}

/** Why a stored record could not be used. */
export interface RecordProblem {
  store: 'samples' | 'labels';
  key: unknown;
  reason: string;
}

/** Check a stored sample; returns a reason when it is unusable, else null. */
export function sampleProblem(rec: unknown, pixelCount: number, classCount: number): string | null {
  if (typeof rec !== 'object' || rec === null) return 'not an object';
  const r = rec as Partial<SampleRecord>;
  if (!Number.isInteger(r.id) || (r.id as number) < 0) return 'id is not a non-negative integer';
  if (!(r.pixels instanceof Uint8Array)) return 'pixels are missing or not bytes';
  if (r.pixels.length !== pixelCount) return `has ${r.pixels.length} pixels, expected ${pixelCount}`;
  if (!Number.isInteger(r.truth) || (r.truth as number) < 0 || (r.truth as number) >= classCount)
    return `dataset label ${String(r.truth)} is not a class index below ${classCount}`;
  if (r.split !== 'pool' && r.split !== 'test') return `split ${String(r.split)} is neither 'pool' nor 'test'`;
  return null;
}

/** Check a stored label against the set of known sample ids. */
export function labelProblem(rec: unknown, knownIds: Set<number>, classCount: number): string | null {
  if (typeof rec !== 'object' || rec === null) return 'not an object';
  const r = rec as Partial<LabelRecord>;
  if (!Number.isInteger(r.sampleId)) return 'sampleId is not an integer';
  if (!knownIds.has(r.sampleId as number)) return `sample ${r.sampleId} is not in the pool`;
  if (!Number.isInteger(r.label) || (r.label as number) < 0 || (r.label as number) >= classCount)
    return `label ${String(r.label)} is not a class index below ${classCount}`;
  return null;
}

/** Scale bytes to [0, 1] floats, concatenated row-major for the given samples. */
export function pixelsToFeatures(samples: SampleRecord[], pixelCount: number): Float32Array {
  const out = new Float32Array(samples.length * pixelCount);
  samples.forEach((s, i) => {
    for (let j = 0; j < pixelCount; j++) out[i * pixelCount + j] = s.pixels[j] / 255;
  });
  return out;
}
