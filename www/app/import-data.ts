// Text, table and embedding import: which files are data, the limits, what to suggest as
// the text and label columns, and how featurized rows become a project (records only; the
// parsing and featurizing happen in the Rust core, in data.worker.ts; storing in db.ts).
import { featureChunks, type FeatureChunk, type LabelRecord, type ProjectRecord, type SampleRecord } from './store/db';

export type DataFormat = 'csv' | 'tsv' | 'jsonl' | 'txt' | 'npy';

/** A row the reader left out, and why (`message` says it with the line and place). */
export interface SkippedRow {
  line: number;
  kind: 'fields' | 'utf8' | 'json';
  message: string;
  /** kind 'fields': the row's fields and the header's. */
  fields?: number;
  expected?: number;
  /** kind 'utf8': the file offset of the first byte that is not UTF-8. */
  offset?: number;
}

/**
 * TF-IDF rows (`f.width` columns) with the sentence embeddings of the same texts (`dim`
 * columns each) after them: the default features of a text project. Both blocks are of
 * unit length per row, so neither outweighs the other in the model's penalty
 * (docs/BENCHMARKS.md, "Sentence encoder"). Pure; `f` is not changed.
 */
export function withEmbeddings(f: Featurized, emb: Float32Array, dim: number): Featurized {
  const n = f.lines.length;
  if (emb.length !== n * dim) throw new Error(`expected ${n} embeddings of ${dim} values, got ${emb.length} values`);
  const w = f.width + dim;
  const features = new Float32Array(n * w);
  for (let i = 0; i < n; i++) {
    features.set(f.features.subarray(i * f.width, (i + 1) * f.width), i * w);
    features.set(emb.subarray(i * dim, (i + 1) * dim), i * w + f.width);
  }
  return { ...f, width: w, features };
}

export interface Featurized {
  width: number;
  /** rows × width, row-major. */
  features: Float32Array;
  /** 1-based source line (CSV, TSV, JSONL, TXT) or row index + 1 (.npy) of each sample. */
  lines: number[];
  texts: string[] | null;
  rows: (string | null)[][] | null;
  /** The names of `rows`' cells. */
  columns: string[] | null;
  labels: (string | null)[] | null;
  snapshot: Uint8Array | null;
  /** Rows left out here (an empty text), with the reason. */
  dropped: { line: number; reason: string }[];
  /** Rows the reader skipped (wrong width, not UTF-8, not a JSON object). */
  skipped: SkippedRow[];
  /** Rows after the first DATA_LIMITS.rows, counted and left out. */
  leftOut: number;
  /** Why counting those rows stopped early (then `leftOut` is a lower bound), or null. */
  countStopped: string | null;
  /** The read: bytes, seconds, the wasm memory's size at its end (bytes), and the row
   *  limit it applied with the reason (for the report when rows were left out). */
  read: { bytes: number; seconds: number; wasmBytes: number; cap?: { rows: number; why: string } };
}

/**
 * Limits, and why: the learner holds every sample's features as one dense matrix in the
 * worker's memory (wasm32: at most 4 GB, shared with the model), and IndexedDB stores
 * them too. CSV, TSV, JSONL and text files of any size are read as a stream: the first
 * `rows` rows are imported and the rest only counted, so a 200 MB file neither freezes
 * the tab nor has to fit in memory. A .npy is one array with no rows to stream, so it is
 * read whole and refused by its size before that.
 */
export const DATA_LIMITS = {
  /** .npy files: read whole, then copied into wasm and out again (3× its size at the
   *  peak); 128 MB is 32 M float32 values, half the `values` cap. */
  npyBytes: 128 * 1024 * 1024,
  /** What the preview reads of a streamed file: its columns and first rows. */
  previewBytes: 1024 * 1024,
  rows: 100_000,
  /** samples × features: 64 M float32 values = 256 MB. */
  values: 64 * 1024 * 1024,
  /** TF-IDF vocabulary size (the most frequent terms): the text's features per sample. */
  textFeatures: 1024,
};

/**
 * The rows to keep: DATA_LIMITS.rows, fewer where the features would pass the values
 * limit anyway (text: TF-IDF is up to DATA_LIMITS.textFeatures wide; vectors: one value
 * per column), so that a big file gives as many rows as fit rather than none. A table's
 * width is known only once its categories are counted: checked after the encoder.
 */
export function rowCap(opts: { kind: 'text' | 'table' | 'embedding'; featureColumns?: string[] }): { rows: number; why: string } {
  const values = DATA_LIMITS.values.toLocaleString('en');
  if (opts.kind === 'text') {
    const rows = Math.min(DATA_LIMITS.rows, Math.floor(DATA_LIMITS.values / DATA_LIMITS.textFeatures));
    return { rows, why: `${rows.toLocaleString('en')} texts per project: up to ${DATA_LIMITS.textFeatures.toLocaleString('en')} TF-IDF features each, and ${values} values are kept in memory while you label` };
  }
  const width = opts.featureColumns?.length ?? 0;
  if (opts.kind === 'embedding' && width > 0 && Math.floor(DATA_LIMITS.values / width) < DATA_LIMITS.rows) {
    const rows = Math.floor(DATA_LIMITS.values / width);
    return { rows, why: `${rows.toLocaleString('en')} vectors of ${width.toLocaleString('en')} values per project: ${values} values are kept in memory while you label` };
  }
  return { rows: DATA_LIMITS.rows, why: `${DATA_LIMITS.rows.toLocaleString('en')} samples per project` };
}

/**
 * The size limits in words, for the drop zone's hint (and the README, checked by a unit
 * test): one source, so the two cannot disagree again.
 */
export function limitsText(): string {
  const mbOf = (b: number) => `${Math.round(b / (1024 * 1024))} MB`;
  return `Files of any size are read as a stream: the first ${DATA_LIMITS.rows.toLocaleString('en')} rows are imported (${rowCap({ kind: 'text' }).rows.toLocaleString('en')} for text); a .npy is read whole, up to ${mbOf(DATA_LIMITS.npyBytes)}.`;
}

/** The format a file name says, or null when it is not a data file this page reads. */
export function dataFormat(name: string): DataFormat | null {
  const m = /\.([a-z0-9]+)$/i.exec(name);
  switch (m?.[1].toLowerCase()) {
    case 'csv':
      return 'csv';
    case 'tsv':
    case 'tab':
      return 'tsv';
    case 'jsonl':
    case 'ndjson':
      return 'jsonl';
    case 'txt':
      return 'txt';
    case 'npy':
      return 'npy';
    default:
      return null;
  }
}

/** Columns a Marginalia label export adds around the data (left out of features by default). */
export const EXPORT_COLUMNS = ['sample_id', 'source', 'labelled_at'];

/** What to preselect: the label column, the text column, and the kind. */
export function suggest(
  format: DataFormat,
  columns: string[],
  preview: (string | null)[][],
): { kind: 'text' | 'table' | 'embedding'; text: string | null; label: string | null } {
  if (format === 'npy') return { kind: 'embedding', text: null, label: null };
  const lower = columns.map((c) => c.toLowerCase());
  const pick = (names: string[]) => {
    for (const n of names) {
      const i = lower.indexOf(n);
      if (i >= 0) return columns[i];
    }
    return null;
  };
  const label = pick(['label', 'labels', 'class', 'category', 'target', 'y', 'species', 'answer']);
  const numeric = (v: string | null) => v == null || (v.trim() !== '' && Number.isFinite(Number(v)));
  const rest = columns.filter((c) => c !== label && !EXPORT_COLUMNS.includes(c));
  const allNumeric = rest.length > 0 && rest.every((c) => preview.every((r) => numeric(r[columns.indexOf(c)])));
  // The column with the longest text in the preview is the text, unless a name says so.
  let text = pick(['text', 'subject', 'title', 'body', 'sentence', 'content', 'message', 'review']);
  const named = text != null;
  if (!text) {
    let best = -1;
    for (const c of rest) {
      const j = columns.indexOf(c);
      const len = preview.reduce((n, r) => n + (numeric(r[j]) ? 0 : (r[j] ?? '').length), 0);
      if (len > best) [best, text] = [len, c];
    }
  }
  if (format === 'txt' || format === 'jsonl') return { kind: 'text', text, label };
  // Numbers only: a table (each row readable as a card), even when wide. Embeddings are
  // numbers too, but a row of them is nothing a person can label by: that kind is the
  // person's choice, never a guess.
  if (allNumeric) return { kind: 'table', text: null, label };
  // Mostly long free text: a text project; short cells: a table.
  const avg = text ? preview.reduce((n, r) => n + (r[columns.indexOf(text!)] ?? '').length, 0) / Math.max(1, preview.length) : 0;
  return { kind: (named || avg >= 25) && rest.length <= 3 ? 'text' : 'table', text, label };
}

export interface DataImportOptions {
  name: string;
  kind: 'text' | 'table' | 'embedding';
  labelColumn: string | null;
  /** 'classes': the label column's values name the classes, the person labels;
   *  'labels': rows with a value are imported labelled;
   *  'heldout': as 'classes', and the rows in `heldOut` become a fixed test set with
   *  their labels, for the held-out accuracy. */
  labels: 'classes' | 'labels' | 'heldout';
}

/** Share of the labelled rows held out in 'heldout' mode (as the demo: a fixed split). */
export const HELD_OUT = 0.2;

/** The class index of each row with a usable label value (for the held-out split). */
export function labelledRows(labels: (string | null)[]): { rows: number[]; classes: Uint32Array } {
  const values = [...new Set(labels.filter((v): v is string => v != null && v.trim() !== '').map((v) => v.trim()))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(values.map((v, i) => [v, i]));
  const rows: number[] = [];
  const classes: number[] = [];
  labels.forEach((v, i) => {
    const k = v == null ? undefined : index.get(v.trim());
    if (k !== undefined) {
      rows.push(i);
      classes.push(k);
    }
  });
  return { rows, classes: Uint32Array.from(classes) };
}

export interface DataImportResult {
  project: ProjectRecord;
  samples: SampleRecord[];
  labels: LabelRecord[];
  features: FeatureChunk[];
  /** Things the person should know (a label column with one value, rows left out). */
  notes: string[];
}

/** Featurized rows → a project's records (not stored yet). */
export function buildDataProject(
  id: string,
  sourceName: string,
  f: Featurized,
  opts: DataImportOptions,
  now = Date.now(),
  heldOut: Set<number> = new Set(),
): DataImportResult {
  const notes: string[] = [];
  const values = f.labels ? [...new Set(f.labels.filter((v): v is string => v != null && v.trim() !== '').map((v) => v.trim()))] : [];
  // Code-unit order, not the locale's: the same file gives the same keys on every machine.
  values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let applyLabels = opts.labels === 'labels';
  if (opts.labelColumn && values.length === 0) notes.push(`The label column “${opts.labelColumn}” is empty in every row: no classes were made. Press n while labelling to add one.`);
  if (values.length > 30)
    notes.push(`The label column “${opts.labelColumn}” has ${values.length} different values, so there are ${values.length} classes: if it holds numbers to predict rather than categories, import again with another label column.`);
  if (opts.labelColumn && values.length === 1) {
    // One class cannot train a classifier (there is nothing to tell it apart from), and
    // labelling every row with it would leave nothing to ask about.
    notes.push(
      `The label column “${opts.labelColumn}” has only one value (“${values[0]}”): a classifier needs at least two classes, so the rows were imported unlabelled, with “${values[0]}” as the first class. Add another class with n while labelling.`,
    );
    applyLabels = false;
  }
  const index = new Map(values.map((v, i) => [v, i]));
  const samples: SampleRecord[] = [];
  const labels: LabelRecord[] = [];
  const n = f.lines.length;
  const test = opts.labels === 'heldout' && values.length >= 2 ? heldOut : new Set<number>();
  if (opts.labels === 'heldout' && test.size) notes.push(`${test.size} labelled rows (${HELD_OUT * 100}% of each class) are held out to measure accuracy; you label the other ${n - test.size}.`);
  for (let i = 0; i < n; i++) {
    const held = test.has(i);
    const s: SampleRecord = {
      project: id,
      id: i,
      truth: held ? index.get(f.labels![i]!.trim())! : null,
      split: held ? 'test' : 'pool',
      source: `${sourceName}:${f.lines[i]}`,
    };
    if (f.texts) s.text = f.texts[i];
    if (f.rows) s.row = f.rows[i];
    samples.push(s);
    const v = f.labels?.[i]?.trim();
    if (applyLabels && v) labels.push({ project: id, sampleId: i, label: index.get(v)!, labelledAt: now, imported: true });
  }
  const project: ProjectRecord = {
    id,
    name: opts.name,
    kind: opts.kind,
    classNames: values,
    width: f.width,
    height: 1,
    channels: 1,
    createdAt: now,
    current: null,
    history: [],
    sourceName,
    featurizer: f.snapshot,
    ...(f.columns && opts.kind !== 'text' ? { columns: f.columns } : {}),
  };
  // Sample id i is row i of the features.
  return { project, samples, labels, features: featureChunks(id, f.features, f.width), notes };
}
