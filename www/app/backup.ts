// Project backup to a single file and restore from it, round-trip exact.
//
// The file is a zip (fflate): `marginalia-backup.json` holds the project record, each
// sample's metadata (for text: the text; for tables: the row's cells) and every label
// (with its time); `pixels.bin` holds every image sample's pixels, concatenated in the
// order listed; `features.bin` every text, table or embedding sample's features (float32,
// little-endian, `width` per sample, same order); `featurizer.bin` the project's fitted
// featurizer; `files/<id>` the original image files byte for byte. A restore checks
// everything before it stores anything, and stores the project in one transaction, as a
// new project (nothing existing is overwritten).
//
// Version 2 added features.bin, featurizer.bin and text/row; version 3, image projects
// with convolutional features: the project's `imageFeatures`, and their features in
// features.bin (4 × centroids per image) beside pixels.bin, with the fitted featurizer in
// featurizer.bin, so a restore learns from exactly the same numbers without recomputing.
// Version 1 and 2 files read as before; a page that knows only version 2 refuses a
// version 3 file instead of silently reading a convolutional project as pixels.
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { featureChunks, type FeatureChunk, type LabelRecord, type ProjectRecord, type SampleRecord } from './store/db';
import { imageFeaturesProblem } from './coates';
import { featureRows, featureWidth, usesStoredFeatures } from './pool';

export const BACKUP_FORMAT = 'marginalia-backup';
export const BACKUP_VERSION = 3;

interface SampleMeta {
  id: number;
  truth: number | null;
  split: 'pool' | 'test';
  source: string | null;
  /** Pixel bytes (images) or feature values (other kinds; images' features are width each). */
  bytes: number;
  file: { type: string } | null;
  text?: string;
  row?: (string | null)[];
}

interface Manifest {
  format: string;
  version: number;
  project: ProjectRecord;
  samples: SampleMeta[];
  labels: { sampleId: number; label: number; labelledAt: number; imported?: true }[];
}

/** Float32 values as little-endian bytes (the file's byte order on every machine). */
function f32Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setFloat32(i * 4, x, true));
  return out;
}

function f32FromBytes(bytes: Uint8Array): Float32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => v.getFloat32(i * 4, true));
}

export async function makeBackup(
  project: ProjectRecord,
  samples: SampleRecord[],
  labels: LabelRecord[],
  chunks: FeatureChunk[] = [],
): Promise<Uint8Array> {
  const sorted = samples.slice().sort((a, b) => a.id - b.id);
  const image = (project.kind ?? 'image') === 'image';
  const stored = usesStoredFeatures({ kind: project.kind ?? 'image', imageFeatures: project.imageFeatures });
  const fw = featureWidth({ ...project, kind: project.kind ?? 'image' });
  const rows = stored ? featureRows(chunks, fw).rowOf : new Map<number, Float32Array>();
  for (const s of sorted) if (stored && !rows.has(s.id)) throw new Error(`sample ${s.id} has no stored features`);
  const pixels = new Uint8Array(image ? sorted.reduce((n, s) => n + s.pixels!.length, 0) : 0);
  const features = new Float32Array(stored ? sorted.length * fw : 0);
  let o = 0;
  let fo = 0;
  const files: Zippable = {};
  const metas: SampleMeta[] = [];
  for (const s of sorted) {
    const n = image ? s.pixels!.length : project.width;
    if (image) pixels.set(s.pixels!, o);
    o += n;
    if (stored) features.set(rows.get(s.id)!, fo);
    fo += fw;
    if (s.file) files[`files/${s.id}`] = [new Uint8Array(await s.file.arrayBuffer()), { level: 0 }];
    const meta: SampleMeta = { id: s.id, truth: s.truth, split: s.split, source: s.source, bytes: n, file: s.file ? { type: s.file.type } : null };
    if (s.text !== undefined) meta.text = s.text;
    if (s.row !== undefined) meta.row = s.row;
    metas.push(meta);
  }
  // The snapshot is bytes: stored as its own file, not as JSON numbers.
  const { featurizer, ...rest } = project;
  const manifest: Manifest = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    project: rest as ProjectRecord,
    samples: metas,
    labels: labels.map((l) => ({ sampleId: l.sampleId, label: l.label, labelledAt: l.labelledAt, ...(l.imported ? { imported: true as const } : {}) })),
  };
  files['marginalia-backup.json'] = strToU8(JSON.stringify(manifest));
  files['pixels.bin'] = pixels;
  if (stored) files['features.bin'] = f32Bytes(features);
  if (featurizer) files['featurizer.bin'] = featurizer;
  return zipSync(files);
}

/** Parse and check a backup; throws an Error saying what is wrong. Stores nothing. */
export function readBackup(
  bytes: Uint8Array,
  newId: string,
): { project: ProjectRecord; samples: SampleRecord[]; labels: LabelRecord[]; features: FeatureChunk[] } {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new Error(`not a Marginalia backup: the file is not a zip (${(e as Error).message})`);
  }
  const json = entries['marginalia-backup.json'];
  const pixels = entries['pixels.bin'];
  if (!json || !pixels) throw new Error('not a Marginalia backup: marginalia-backup.json or pixels.bin is missing');
  const m = JSON.parse(strFromU8(json)) as Manifest;
  if (m.format !== BACKUP_FORMAT) throw new Error(`not a Marginalia backup (format ${String(m.format)})`);
  if (![1, 2, BACKUP_VERSION].includes(m.version)) throw new Error(`backup version ${m.version} is not one this page reads (1 to ${BACKUP_VERSION})`);
  const p = m.project;
  const image = (p.kind ?? 'image') === 'image';
  const imageWhy = image ? imageFeaturesProblem(p.imageFeatures) : null;
  if (imageWhy) throw new Error(`backup is damaged: ${imageWhy}`);
  const stored = usesStoredFeatures({ kind: p.kind ?? 'image', imageFeatures: p.imageFeatures });
  const fw = featureWidth({ ...p, kind: p.kind ?? 'image' });
  let features: Float32Array = new Float32Array(0);
  if (image) {
    const per = p.width * p.height * p.channels;
    if (m.samples.length * per !== pixels.length)
      throw new Error(`backup is damaged: pixels.bin has ${pixels.length} bytes, expected ${m.samples.length} × ${per}`);
  }
  if (stored) {
    const fb = entries['features.bin'];
    if (!fb) throw new Error('backup is damaged: features.bin is missing');
    if (fb.length !== m.samples.length * fw * 4)
      throw new Error(`backup is damaged: features.bin has ${fb.length} bytes, expected ${m.samples.length} × ${fw} × 4`);
    features = f32FromBytes(fb);
  }
  const per = image ? p.width * p.height * p.channels : p.width;
  const featurizer = entries['featurizer.bin'];
  // Images added to the project later are encoded with the fitted featurizer: without it
  // the project could not grow with the same columns.
  if (image && p.imageFeatures?.kind === 'coates' && !featurizer) throw new Error('backup is damaged: featurizer.bin (the convolutional features\' filters) is missing');
  const project: ProjectRecord = { ...p, id: newId, ...(featurizer ? { featurizer: featurizer.slice() } : {}) };
  const ids = new Set<number>();
  const samples: SampleRecord[] = m.samples.map((s, i) => {
    if (s.bytes !== per) throw new Error(`backup is damaged: sample ${s.id} has ${s.bytes} ${image ? 'bytes' : 'features'}, expected ${per}`);
    ids.add(s.id);
    const f = s.file ? entries[`files/${s.id}`] : undefined;
    if (s.file && !f) throw new Error(`backup is damaged: files/${s.id} is missing`);
    if (p.kind === 'text' && typeof s.text !== 'string') throw new Error(`backup is damaged: sample ${s.id} has no text`);
    if (p.kind === 'table' && !Array.isArray(s.row)) throw new Error(`backup is damaged: sample ${s.id} has no table row`);
    return {
      project: newId,
      id: s.id,
      ...(image ? { pixels: pixels.slice(i * per, (i + 1) * per) } : {}),
      truth: s.truth,
      split: s.split,
      source: s.source,
      // Only samples that had a file (text, row) get one: the restored record matches the original.
      ...(f ? { file: new Blob([f as BlobPart], { type: s.file!.type }) } : {}),
      ...(s.text !== undefined ? { text: s.text } : {}),
      ...(s.row !== undefined ? { row: s.row } : {}),
    };
  });
  const labels: LabelRecord[] = m.labels.map((l) => {
    if (!ids.has(l.sampleId)) throw new Error(`backup is damaged: a label names sample ${l.sampleId}, which is not in it`);
    if (!(l.label >= 0 && l.label < p.classNames.length)) throw new Error(`backup is damaged: label ${l.label} of sample ${l.sampleId} is not a class`);
    return { project: newId, sampleId: l.sampleId, label: l.label, labelledAt: l.labelledAt, ...(l.imported === true ? { imported: true as const } : {}) };
  });
  // Features by sample id (row id of a dense matrix; ids not in the backup stay zero rows
  // that no sample reads), stored in chunks like an import's.
  let chunks: FeatureChunk[] = [];
  if (stored && samples.length) {
    const n = Math.max(...samples.map((s) => s.id)) + 1;
    const dense = new Float32Array(n * fw);
    samples.forEach((s, i) => dense.set(features.subarray(i * fw, (i + 1) * fw), s.id * fw));
    chunks = featureChunks(newId, dense, fw);
  }
  return { project, samples, labels, features: chunks };
}
