// Exports, built in the page and handed over as a blob download: nothing goes to a server.
// The row formats are pure functions (unit-tested); the zip uses fflate.
import { TEXT_WEIGHTS_SHA256, WEIGHTS_SHA256 } from 'marginalia/encoder';
import { zipSync, type Zippable } from 'fflate';
import type { LabelRecord, ProjectRecord, SampleRecord } from './store/db';

export interface LabelRow {
  sampleId: number;
  source: string | null;
  label: string;
  labelledAt: number;
  /** The sample itself, for text and tables (`dataColumns` names them), so an export can be
   *  imported again, or read, without the original file. */
  data?: (string | null)[];
}

/** The sample's own columns an export carries: the text, or a table's columns. */
export function dataColumns(project: Pick<ProjectRecord, 'kind' | 'columns'>): string[] {
  if (project.kind === 'text') return ['text'];
  if (project.kind === 'table') return project.columns ?? [];
  return [];
}

/** One row per labelled sample, in sample order. */
export function labelRows(project: ProjectRecord, samples: SampleRecord[], labels: LabelRecord[]): LabelRow[] {
  const byId = new Map(samples.map((s) => [s.id, s]));
  return labels
    .slice()
    .sort((a, b) => a.sampleId - b.sampleId)
    .map((l) => {
      const s = byId.get(l.sampleId);
      const row: LabelRow = {
        sampleId: l.sampleId,
        source: s?.source ?? null,
        label: project.classNames[l.label] ?? `class ${l.label + 1}`,
        labelledAt: l.labelledAt,
      };
      if (project.kind === 'text') row.data = [s?.text ?? null];
      else if (project.kind === 'table') row.data = s?.row ?? [];
      return row;
    });
}

/**
 * One CSV cell. Text beginning with `=`, `+`, `-` or `@` (and tab or carriage return,
 * which some spreadsheets also strip before evaluating) would run as a formula when the
 * file is opened in a spreadsheet: it is prefixed with a single quote (OWASP's advice).
 * Cells with a comma, quote or line break are quoted, quotes doubled (RFC 4180).
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  let v = value;
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** CSV: sample_id, source, the sample's own columns (`columns`, from `dataColumns`), label, labelled_at. */
export function toCsv(rows: LabelRow[], columns: string[] = []): string {
  const lines = [['sample_id', 'source', ...columns.map(csvCell), 'label', 'labelled_at'].join(',')];
  for (const r of rows) {
    const data = columns.map((_, i) => csvCell(r.data?.[i] ?? null));
    lines.push([csvCell(r.sampleId), csvCell(r.source), ...data, csvCell(r.label), csvCell(new Date(r.labelledAt).toISOString())].join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/**
 * JSON Lines, one object per label (JSON needs no formula escaping: it is not a sheet).
 * A text project's lines read `{"id", "source", "text", "label", "labelled_at"}`, the
 * shape Prodigy writes, so the file imports again as text.
 */
export function toJsonl(rows: LabelRow[], columns: string[] = []): string {
  return rows
    .map((r) => {
      const o: Record<string, unknown> = { id: r.sampleId, source: r.source };
      columns.forEach((c, i) => {
        if (!(c in o)) o[c] = r.data?.[i] ?? null;
      });
      o.label = r.label;
      o.labelled_at = new Date(r.labelledAt).toISOString();
      return JSON.stringify(o) + '\n';
    })
    .join('');
}

/** A folder or file name that is safe in a zip on every system ('a/b' or '..' cannot escape). */
export function safeName(name: string, fallback: string): string {
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_').trim();
  if (!cleaned || /^\.+$/.test(cleaned)) return fallback;
  return cleaned.slice(0, 120);
}

/**
 * The labelled images as a zip, one folder per class (the ImageFolder layout). The
 * original file is used when stored; otherwise (the demo) a PNG is made from the pixels.
 */
export async function imagesZip(
  project: ProjectRecord,
  samples: SampleRecord[],
  labels: LabelRecord[],
  toPng: (s: SampleRecord) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const byId = new Map(samples.map((s) => [s.id, s]));
  const files: Zippable = {};
  const used = new Set<string>();
  for (const l of labels.slice().sort((a, b) => a.sampleId - b.sampleId)) {
    const s = byId.get(l.sampleId);
    if (!s) continue;
    const folder = safeName(project.classNames[l.label] ?? `class ${l.label + 1}`, `class ${l.label + 1}`);
    let bytes: Uint8Array;
    let base: string;
    if (s.file) {
      bytes = new Uint8Array(await s.file.arrayBuffer());
      base = safeName((s.source ?? '').split('/').pop() ?? '', `${s.id}`);
    } else {
      bytes = await toPng(s);
      base = `${s.id}.png`;
    }
    let path = `${folder}/${base}`;
    if (used.has(path)) path = `${folder}/${s.id}-${base}`;
    used.add(path);
    files[path] = [bytes, { level: 0 }]; // images are compressed already
  }
  return zipSync(files);
}

/** Hand bytes or text to the browser as a download (a blob URL; no server involved). */
export function download(data: Uint8Array | string, fileName: string, type: string): void {
  const blob = new Blob([data as BlobPart], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** What model.json says about a model file (docs/MODEL_FORMAT.md). */
export interface ModelManifest {
  format: 'marginalia-model';
  version: 1;
  model: string;
  classNames: string[];
  features: {
    width: number;
    input: string;
    image?: { width: number; height: number; channels: number; scaling: string };
    /** Images with convolutional features: how they were made; their featurizer is featurizer.bin. */
    coates?: { centroids: number; patch: number; patches: number; seed: number; fittedOn: number; grey: string; encoding: string };
    /** Pretrained features: the encoder (name and version) that makes them; `size` for images. */
    pretrained?: { encoder: string; size?: number; dim: number; weights: string; encoding: string };
    /** Text with TF-IDF and sentence embeddings: which columns are which. */
    text?: { columns: string };
  };
  strategy: string;
  labels: number;
  project: string;
  exportedAt: string;
  files: { 'model.bin': string; 'featurizer.bin'?: string };
}

/** The manifest for an exported model (pure: the caller supplies the time). */
export function modelManifest(
  project: ProjectRecord,
  info: { kind: string; width: number },
  strategy: string,
  labels: number,
  now: Date,
): ModelManifest {
  const image = project.kind === 'image';
  const f = image ? project.imageFeatures : null;
  const cf = f?.kind === 'coates' ? f : null;
  const pf = f?.kind === 'pretrained' ? f : null;
  const tf = project.kind === 'text' ? project.textFeatures ?? null : null;
  return {
    format: 'marginalia-model',
    version: 1,
    model: info.kind,
    classNames: project.classNames,
    features: {
      width: info.width,
      input: project.kind,
      ...(image && !f
        ? { image: { width: project.width, height: project.height, channels: project.channels, scaling: 'each pixel byte / 255, row-major (row, column, channel)' } }
        : {}),
      ...(cf
        ? {
          image: { width: project.width, height: project.height, channels: project.channels, scaling: 'none: the model reads the convolutional features below, not pixels' },
          coates: {
            centroids: cf.centroids, patch: cf.patch, patches: cf.patches, seed: cf.seed, fittedOn: cf.fittedOn,
            grey: project.channels === 3 ? 'each RGB pixel to round(0.299 R + 0.587 G + 0.114 B) (ITU-R BT.601 luma), one byte per pixel' : 'the pixel bytes as they are',
            encoding: 'CoatesFeaturizer.restore(featurizer.bin).transform(grey bytes of the images, row-major): 4 × centroids standardized values per image',
          },
        }
        : {}),
      ...(pf
        ? {
          image: { width: project.width, height: project.height, channels: project.channels, scaling: 'none: the model reads the pretrained features below, not pixels' },
          pretrained: {
            encoder: pf.encoder, size: pf.size, dim: pf.dim,
            weights: 'efficientnet-lite0.f16.safetensors, sha256 ' + WEIGHTS_SHA256 + ' (the Marginalia app serves it under weights/; its licence is in NOTICE)',
            encoding: `new ImageEncoder(weights, ${pf.size}).encode(pixels of the images, width, height, channels) (Marginalia wasm core): ${pf.dim} values per image`,
          },
        }
        : {}),
      ...(tf
        ? {
          text: {
            columns: `the first ${tf.tfidfWidth} are the TF-IDF of featurizer.bin (TextFeaturizer.restore(featurizer.bin).transform(texts)), the last ${tf.dim} the sentence embeddings below`,
          },
          pretrained: {
            encoder: tf.encoder, dim: tf.dim,
            weights: 'minilm-l6.i8.safetensors, sha256 ' + TEXT_WEIGHTS_SHA256 + ' (the Marginalia app serves it under weights/; its licence is in NOTICE)',
            encoding: `new SentenceEncoder(weights).encode(texts).features (Marginalia wasm core): ${tf.dim} values per text`,
          },
        }
        : {}),
    },
    strategy,
    labels,
    project: project.name,
    exportedAt: now.toISOString(),
    files: {
      'model.bin': 'the model: read with TrainedModel.fromBytes (Marginalia wasm core), then predictProba(features)',
      ...(cf ? { 'featurizer.bin': 'the fitted convolutional featurizer: CoatesFeaturizer.restore (Marginalia wasm core) turns images into the features' } : {}),
      ...(tf ? { 'featurizer.bin': 'the fitted TF-IDF vocabulary: TextFeaturizer.restore (Marginalia wasm core) turns texts into the first columns of the features' } : {}),
    },
  };
}

/** model.bin and model.json in one zip (the model's bytes compress poorly: stored as is). */
export function modelZip(bytes: Uint8Array, manifest: ModelManifest, featurizer?: Uint8Array | null): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n');
  return zipSync({ 'model.bin': [bytes, { level: 0 }], 'model.json': json, ...(featurizer && manifest.files['featurizer.bin'] ? { 'featurizer.bin': featurizer } : {}) });
}
