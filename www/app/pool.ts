// Pure helpers for a project's pool: stored records validated, samples to features.
import type { FeatureChunk, LabelRecord, ProjectKind, ProjectRecord, SampleRecord } from './store/db';

export type { LabelRecord, SampleRecord };

type Shape = Pick<ProjectRecord, 'kind' | 'width' | 'height' | 'channels' | 'imageFeatures'>;

/**
 * Values per sample the learner sees: pixel bytes for images, 4 × centroids for images
 * with convolutional features, the encoder's width for pretrained ones, else the stored
 * features.
 */
export function featureWidth(p: Shape): number {
  if (p.kind !== 'image') return p.width;
  const f = p.imageFeatures;
  if (!f) return pixelBytes(p);
  return f.kind === 'pretrained' ? f.dim : 4 * f.centroids;
}

/** Pixel bytes per stored image sample (0 for the other kinds, which store none). */
export function pixelBytes(p: Pick<ProjectRecord, 'kind' | 'width' | 'height' | 'channels'>): number {
  return p.kind === 'image' ? p.width * p.height * p.channels : 0;
}

/** Whether the learner's features are read from the `features` store (else from pixels). */
export function usesStoredFeatures(p: Pick<ProjectRecord, 'kind' | 'imageFeatures'>): boolean {
  return p.kind !== 'image' || !!p.imageFeatures;
}

/**
 * Check a stored sample; returns a reason when it is unusable, else null. `width`: pixel
 * bytes for images, features for the other kinds.
 */
export function sampleProblem(rec: unknown, width: number, classCount: number, kind: ProjectKind = 'image'): string | null {
  if (typeof rec !== 'object' || rec === null) return 'not an object';
  const r = rec as Partial<SampleRecord>;
  if (!Number.isInteger(r.id) || (r.id as number) < 0) return 'id is not a non-negative integer';
  if (kind === 'image') {
    if (!(r.pixels instanceof Uint8Array)) return 'pixels are missing or not bytes';
    if (r.pixels.length !== width) return `has ${r.pixels.length} pixel bytes, expected ${width}`;
  } else {
    if (kind === 'text' && typeof r.text !== 'string') return 'text is missing';
    if (kind === 'table' && !Array.isArray(r.row)) return 'the table row is missing';
  }
  if (r.truth != null && (!Number.isInteger(r.truth) || r.truth < 0 || r.truth >= classCount))
    return `dataset label ${String(r.truth)} is not a class index below ${classCount}`;
  if (r.split !== 'pool' && r.split !== 'test') return `split ${String(r.split)} is neither 'pool' nor 'test'`;
  if (r.split === 'test' && r.truth == null) return 'a held-out sample without a dataset label';
  return null;
}

/** Check a stored label against the set of known sample ids. */
export function labelProblem(rec: unknown, knownIds: { has(id: number): boolean }, classCount: number): string | null {
  if (typeof rec !== 'object' || rec === null) return 'not an object';
  const r = rec as Partial<LabelRecord>;
  if (!Number.isInteger(r.sampleId)) return 'sampleId is not an integer';
  if (!knownIds.has(r.sampleId as number)) return `sample ${r.sampleId} is not in the pool`;
  if (!Number.isInteger(r.label) || (r.label as number) < 0 || (r.label as number) >= classCount)
    return `label ${String(r.label)} is not a class index below ${classCount}`;
  return null;
}

/** Scale bytes to [0, 1] floats, concatenated row-major for the given samples. */
export function pixelsToFeatures(samples: { pixels?: Uint8Array }[], byteCount: number): Float32Array {
  const out = new Float32Array(samples.length * byteCount);
  samples.forEach((s, i) => {
    const o = i * byteCount;
    const px = s.pixels!;
    for (let j = 0; j < byteCount; j++) out[o + j] = px[j] / 255;
  });
  return out;
}

/**
 * Stored feature chunks (raw records) → each sample id's row. Chunks that are not what
 * they say are reported and left out (their samples then have no features).
 */
export function featureRows(chunks: unknown[], width: number): { rowOf: Map<number, Float32Array>; problems: string[] } {
  const rowOf = new Map<number, Float32Array>();
  const problems: string[] = [];
  for (const c of chunks) {
    const k = c as Partial<FeatureChunk>;
    const where = `features from sample ${String(k?.start)}`;
    if (!k || !Number.isInteger(k.start) || !Number.isInteger(k.rows) || !(k.data instanceof Float32Array)) problems.push(`${where}: not a feature chunk`);
    else if (k.width !== width || k.data.length !== k.rows! * width)
      problems.push(`${where}: ${k.data.length} values, expected ${k.rows} × ${width}`);
    else for (let r = 0; r < k.rows!; r++) rowOf.set(k.start! + r, k.data.subarray(r * width, (r + 1) * width));
  }
  return { rowOf, problems };
}

/** The learner's matrix for validated samples of a project, row-major. */
export function poolFeatures(p: Shape, samples: SampleRecord[], rows: Map<number, Float32Array> = new Map()): Float32Array {
  const w = featureWidth(p);
  if (!usesStoredFeatures(p)) return pixelsToFeatures(samples, w);
  const out = new Float32Array(samples.length * w);
  samples.forEach((s, i) => out.set(rows.get(s.id)!, i * w));
  return out;
}
