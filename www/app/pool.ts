// Pure helpers for a project's pool: stored records validated, image bytes to features.
import type { LabelRecord, SampleRecord } from './store/db';

export type { LabelRecord, SampleRecord };

/** Check a stored sample; returns a reason when it is unusable, else null. */
export function sampleProblem(rec: unknown, byteCount: number, classCount: number): string | null {
  if (typeof rec !== 'object' || rec === null) return 'not an object';
  const r = rec as Partial<SampleRecord>;
  if (!Number.isInteger(r.id) || (r.id as number) < 0) return 'id is not a non-negative integer';
  if (!(r.pixels instanceof Uint8Array)) return 'pixels are missing or not bytes';
  if (r.pixels.length !== byteCount) return `has ${r.pixels.length} pixel bytes, expected ${byteCount}`;
  if (r.truth != null && (!Number.isInteger(r.truth) || r.truth < 0 || r.truth >= classCount))
    return `dataset label ${String(r.truth)} is not a class index below ${classCount}`;
  if (r.split !== 'pool' && r.split !== 'test') return `split ${String(r.split)} is neither 'pool' nor 'test'`;
  if (r.split === 'test' && r.truth == null) return 'a held-out sample without a dataset label';
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
export function pixelsToFeatures(samples: { pixels: Uint8Array }[], byteCount: number): Float32Array {
  const out = new Float32Array(samples.length * byteCount);
  samples.forEach((s, i) => {
    const o = i * byteCount;
    for (let j = 0; j < byteCount; j++) out[o + j] = s.pixels[j] / 255;
  });
  return out;
}
