// Import of a person's own files into a new project: collecting files (picker, folder
// picker, dropped folders, zips), class names from subfolders (the ImageFolder
// convention), decoding in a worker with progress, and a report of what was skipped.
import * as Comlink from 'comlink';
import { unzipSync } from 'fflate';
import { coatesProblem, describeImageFeatures, type ImageFeatureKind } from './coates';
import type { DecodeApi } from './decode.worker';
import { ENCODER_SIZE } from './encoder-pool';
import { computeImageFeatures, computePretrainedFeatures, encodedWhere, pretrainedWhere } from './image-features';
import type { FeatureChunk, LabelRecord, ProjectRecord, SampleRecord } from './store/db';

export interface InputFile {
  /** Path inside what was chosen: "root/cat/1.png", or just "1.png". */
  path: string;
  blob: Blob;
}

export interface Skipped {
  path: string;
  reason: string;
}

export type FolderMode = 'labels' | 'classes' | 'ignore';

/** The import form's pixel choice. */
export function channelChoice(v: string): 1 | 3 | 'auto' {
  return v === '1' ? 1 : v === '3' ? 3 : 'auto';
}

/** True when RGB bytes hold no colour (every pixel's three values equal). */
export function isGrey(rgb: Uint8Array): boolean {
  for (let i = 0; i + 2 < rgb.length; i += 3) if (rgb[i] !== rgb[i + 1] || rgb[i] !== rgb[i + 2]) return false;
  return true;
}

/** Grey bytes from RGB bytes that hold no colour (isGrey): the first of each three. */
export function greyOf(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = rgb[i * 3];
  return out;
}

export interface ImportOptions {
  name: string;
  size: number;
  /** Bytes per pixel: grey, RGB, or 'auto': RGB when any image has colour, else grey. */
  channels: 1 | 3 | 'auto';
  /** Subfolders: 'labels' = import as labelled; 'classes' = class list only; 'ignore'. */
  folders: FolderMode;
  /** What the learner sees: raw pixels, convolutional features learned from the images, or pretrained features. Default 'pixels'. */
  features?: ImageFeatureKind;
  /** Stops computing pretrained features; the project is then made with raw pixels. */
  signal?: AbortSignal;
}

const IMAGE_EXT = /\.(png|jpe?g|webp|gif|bmp)$/i;

/** Files from an <input type=file> (with or without webkitdirectory). */
export function fromFileList(list: FileList | File[]): InputFile[] {
  return Array.from(list).map((f) => ({ path: f.webkitRelativePath || f.name, blob: f }));
}

/** Files from a drop: folders are walked recursively (FileSystemEntry API). */
export async function fromDataTransfer(dt: DataTransfer): Promise<InputFile[]> {
  const entries = Array.from(dt.items)
    .map((i) => i.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return fromFileList(dt.files);
  const out: InputFile[] = [];
  const walk = async (e: FileSystemEntry, prefix: string): Promise<void> => {
    if (e.isFile) {
      const f = await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej));
      out.push({ path: prefix + e.name, blob: f });
    } else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      // readEntries returns at most ~100 entries per call: read until it returns none.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (batch.length === 0) break;
        for (const c of batch) await walk(c, `${prefix}${e.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, '');
  return out;
}

/** Zips are opened in place: their files join the import with paths inside the zip. */
export async function expandZips(files: InputFile[], skipped: Skipped[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const f of files) {
    if (!/\.zip$/i.test(f.path)) {
      out.push(f);
      continue;
    }
    try {
      const entries = unzipSync(new Uint8Array(await f.blob.arrayBuffer()));
      for (const [p, data] of Object.entries(entries)) {
        if (p.endsWith('/')) continue; // a folder entry
        out.push({ path: `${f.path.replace(/\.zip$/i, '')}/${p}`, blob: new Blob([data as BlobPart]) });
      }
    } catch (e) {
      skipped.push({ path: f.path, reason: `not a readable zip (${(e as Error).message})` });
    }
  }
  return out;
}

/**
 * The class of each file from its folder (ImageFolder): the folder that holds the file,
 * once the folders every file shares are removed. Files not in a subfolder get null.
 */
export function folderClasses(paths: string[]): (string | null)[] {
  const dirs = paths.map((p) => p.split('/').filter(Boolean).slice(0, -1));
  let common = 0;
  if (dirs.length) {
    const min = Math.min(...dirs.map((d) => d.length));
    while (common < min && dirs.every((d) => d[common] === dirs[0][common])) common++;
  }
  return dirs.map((d) => (d.length > common ? d[d.length - 1] : null));
}

/** Which files can be imported as images; the others are reported with the reason. */
export function triage(files: InputFile[]): { images: InputFile[]; skipped: Skipped[] } {
  const images: InputFile[] = [];
  const skipped: Skipped[] = [];
  for (const f of files) {
    const base = f.path.split('/').pop() ?? f.path;
    if (base.startsWith('.')) continue; // .DS_Store and friends: not the person's data
    if (!IMAGE_EXT.test(base)) {
      const ext = base.includes('.') ? base.slice(base.lastIndexOf('.')) : '(no extension)';
      skipped.push({
        path: f.path,
        reason: /\.(csv|tsv|tab|jsonl|ndjson|txt|npy)$/i.test(base)
          ? `${ext} is a data file, not an image: import it on its own under “New project from text, a table or embeddings”`
          : `${ext} is not an image format this page reads (PNG, JPEG, WebP, GIF, BMP)`,
      });
    } else if (f.blob.size === 0) skipped.push({ path: f.path, reason: 'empty file (0 bytes)' });
    else images.push(f);
  }
  return { images, skipped };
}

export interface ImportResult {
  project: ProjectRecord;
  samples: SampleRecord[];
  labels: LabelRecord[];
  skipped: Skipped[];
  /** Convolutional features (empty for pixels), stored with the project. */
  features: FeatureChunk[];
  /** What the person should know (features fell back to pixels, and why). */
  notes: string[];
}

export type ImportProgress = (done: number, total: number, stage?: string) => void;

/**
 * Decode the images in a worker, in chunks, reporting progress: samples with ids from 0
 * (project '' until the caller sets it), labels from folders as `opts.folders` says, and
 * what was skipped.
 */
export async function decodeImages(
  files: InputFile[],
  opts: Pick<ImportOptions, 'size' | 'channels' | 'folders'>,
  progress: ImportProgress,
): Promise<{ samples: SampleRecord[]; labels: LabelRecord[]; classNames: string[]; skipped: Skipped[]; channels: 1 | 3 }> {
  const skipped: Skipped[] = [];
  const expanded = await expandZips(files, skipped);
  const t = triage(expanded);
  skipped.push(...t.skipped);
  const images = t.images.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const classOf = opts.folders === 'ignore' ? images.map(() => null) : folderClasses(images.map((f) => f.path));
  const worker = new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module' });
  const decoder = Comlink.wrap<DecodeApi>(worker);
  const samples: SampleRecord[] = [];
  const labels: LabelRecord[] = [];
  const classNames: string[] = [];
  const classIndex = new Map<string, number>();
  const now = Date.now();
  try {
    const CHUNK = 16;
    progress(0, images.length);
    for (let i = 0; i < images.length; i += CHUNK) {
      const chunk = images.slice(i, i + CHUNK);
      const decoded = await decoder.decode(chunk.map((f) => f.blob), opts.size, opts.channels === 'auto' ? 3 : opts.channels);
      decoded.forEach((d, j) => {
        const f = chunk[j];
        if ('error' in d) {
          skipped.push({ path: f.path, reason: d.error });
          return;
        }
        const id = samples.length;
        const cls = classOf[i + j];
        let truth: number | null = null;
        if (cls != null) {
          if (!classIndex.has(cls)) {
            classIndex.set(cls, classNames.length);
            classNames.push(cls);
          }
          truth = classIndex.get(cls)!;
          if (opts.folders === 'labels') labels.push({ project: '', sampleId: id, label: truth, labelledAt: now, imported: true });
        }
        samples.push({ project: '', id, pixels: d.pixels, truth: null, split: 'pool', source: f.path, file: f.blob });
      });
      progress(Math.min(i + CHUNK, images.length), images.length);
    }
  } finally {
    worker.terminate();
  }
  // 'auto': photos with colour are kept (and shown) in colour whatever the model learns
  // from; a set of grey images (digits, scans) is stored grey, at a third of the size.
  let channels: 1 | 3 = opts.channels === 'auto' ? 3 : opts.channels;
  if (opts.channels === 'auto' && samples.every((s) => isGrey(s.pixels!))) {
    channels = 1;
    for (const s of samples) s.pixels = greyOf(s.pixels!);
  }
  return { samples, labels, classNames, skipped, channels };
}

/** Decode the images (decodeImages), build the project and, if asked, its convolutional features. */
export async function importImages(id: string, files: InputFile[], opts: ImportOptions, progress: ImportProgress): Promise<ImportResult> {
  const { samples, labels, classNames, skipped, channels } = await decodeImages(files, opts, progress);
  for (const s of samples) s.project = id;
  for (const l of labels) l.project = id;
  const project: ProjectRecord = {
    id,
    name: opts.name,
    kind: 'image',
    classNames,
    width: opts.size,
    height: opts.size,
    channels,
    createdAt: Date.now(),
    current: null,
    history: [],
  };
  const notes: string[] = [];
  let features: FeatureChunk[] = [];
  if (opts.features === 'pretrained' && samples.length) {
    try {
      const f = await computePretrainedFeatures(project, samples, ENCODER_SIZE, (d, t, stage) => progress(d, t, stage), opts.signal);
      project.imageFeatures = f.imageFeatures;
      features = f.chunks;
      notes.push(`Learning from ${describeImageFeatures(f.imageFeatures)}: computed for all ${samples.length} images in ${(f.encodeMs / 1000).toFixed(1)} s ${pretrainedWhere(f.encodedOn, f.workers ?? 0)}.`);
    } catch (e) {
      if (opts.signal?.aborted) notes.push('Encoding was stopped, as you asked. This project uses raw pixels; you can switch it to pretrained features under Projects.');
      else notes.push(`Pretrained features could not be computed (${(e as Error).message}). This project uses raw pixels; you can try again under Projects.`);
    }
  } else if (opts.features === 'coates' && samples.length) {
    // Too few images is known before any work: said plainly, and the project is made
    // with raw pixels (it can switch later, under Projects, once it has more).
    const why = coatesProblem(samples.length, opts.size);
    if (why) notes.push(`Convolutional features were not used: ${why}. This project uses raw pixels.`);
    else {
      try {
        const f = await computeImageFeatures(project, samples, (d, t, stage) => progress(d, t, stage));
        const cf = f.imageFeatures;
        if (cf.kind !== 'coates') throw new Error('the convolutional featurizer returned other features');
        project.imageFeatures = cf;
        project.featurizer = f.featurizer;
        features = f.chunks;
        const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
        notes.push(
          `Convolutional features: ${cf.centroids * 4} per image, learned from ${cf.fittedOn} of the images${channels === 3 ? ' (in grey: the colour images were converted for them; they are shown in colour)' : ''}; computed for all ${samples.length} in ${sec(f.fitMs + f.encodeMs)}${cf.fittedOn < samples.length ? ` (encoded ${encodedWhere(f.encodedOn)})` : ''}.`,
        );
      } catch (e) {
        notes.push(`Convolutional features could not be computed (${(e as Error).message}). This project uses raw pixels; you can try again under Projects.`);
      }
    }
  }
  return { project, samples, labels, skipped, features, notes };
}
