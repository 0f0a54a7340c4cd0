// Project backup to a single file and restore from it, round-trip exact.
//
// The file is a zip (fflate): `marginalia-backup.json` holds the project record, each
// sample's metadata and every label (with its time); `pixels.bin` holds every sample's
// pixels, concatenated in the order listed; `files/<id>` holds the original image files
// byte for byte. A restore checks everything before it stores anything, and stores the
// project in one transaction, as a new project (nothing existing is overwritten).
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import type { LabelRecord, ProjectRecord, SampleRecord } from './store/db';

export const BACKUP_FORMAT = 'marginalia-backup';
export const BACKUP_VERSION = 1;

interface SampleMeta {
  id: number;
  truth: number | null;
  split: 'pool' | 'test';
  source: string | null;
  bytes: number;
  file: { type: string } | null;
}

interface Manifest {
  format: string;
  version: number;
  project: ProjectRecord;
  samples: SampleMeta[];
  labels: { sampleId: number; label: number; labelledAt: number }[];
}

export async function makeBackup(project: ProjectRecord, samples: SampleRecord[], labels: LabelRecord[]): Promise<Uint8Array> {
  const sorted = samples.slice().sort((a, b) => a.id - b.id);
  const total = sorted.reduce((n, s) => n + s.pixels.length, 0);
  const pixels = new Uint8Array(total);
  let o = 0;
  const files: Zippable = {};
  const metas: SampleMeta[] = [];
  for (const s of sorted) {
    pixels.set(s.pixels, o);
    o += s.pixels.length;
    if (s.file) files[`files/${s.id}`] = [new Uint8Array(await s.file.arrayBuffer()), { level: 0 }];
    metas.push({ id: s.id, truth: s.truth, split: s.split, source: s.source, bytes: s.pixels.length, file: s.file ? { type: s.file.type } : null });
  }
  const manifest: Manifest = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    project,
    samples: metas,
    labels: labels.map((l) => ({ sampleId: l.sampleId, label: l.label, labelledAt: l.labelledAt })),
  };
  files['marginalia-backup.json'] = strToU8(JSON.stringify(manifest));
  files['pixels.bin'] = pixels;
  return zipSync(files);
}

/** Parse and check a backup; throws an Error saying what is wrong. Stores nothing. */
export function readBackup(
  bytes: Uint8Array,
  newId: string,
): { project: ProjectRecord; samples: SampleRecord[]; labels: LabelRecord[] } {
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
  if (m.version !== BACKUP_VERSION) throw new Error(`backup version ${m.version} is not one this page reads (${BACKUP_VERSION})`);
  const p = m.project;
  const per = p.width * p.height * p.channels;
  if (m.samples.length * per !== pixels.length)
    throw new Error(`backup is damaged: pixels.bin has ${pixels.length} bytes, expected ${m.samples.length} × ${per}`);
  const project: ProjectRecord = { ...p, id: newId };
  const ids = new Set<number>();
  const samples: SampleRecord[] = m.samples.map((s, i) => {
    if (s.bytes !== per) throw new Error(`backup is damaged: sample ${s.id} has ${s.bytes} bytes, expected ${per}`);
    ids.add(s.id);
    const f = s.file ? entries[`files/${s.id}`] : undefined;
    if (s.file && !f) throw new Error(`backup is damaged: files/${s.id} is missing`);
    return {
      project: newId,
      id: s.id,
      pixels: pixels.slice(i * per, (i + 1) * per),
      truth: s.truth,
      split: s.split,
      source: s.source,
      // Only samples that had a file get one: the restored record matches the original.
      ...(f ? { file: new Blob([f as BlobPart], { type: s.file!.type }) } : {}),
    };
  });
  const labels: LabelRecord[] = m.labels.map((l) => {
    if (!ids.has(l.sampleId)) throw new Error(`backup is damaged: a label names sample ${l.sampleId}, which is not in it`);
    if (!(l.label >= 0 && l.label < p.classNames.length)) throw new Error(`backup is damaged: label ${l.label} of sample ${l.sampleId} is not a class`);
    return { project: newId, sampleId: l.sampleId, label: l.label, labelledAt: l.labelledAt };
  });
  return { project, samples, labels };
}
