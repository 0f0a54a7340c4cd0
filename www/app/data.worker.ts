// Text, table and embedding import off the main thread. "What is in it" (inspect) reads
// only the first MB of a CSV, TSV, JSONL or text file; "import it" (featurize) reads the
// whole file as a stream (File.stream()) into the Rust core's incremental reader, which
// keeps the first DATA_LIMITS.rows rows and counts the rest, so a file of any size is
// never one string here or in wasm; then the rows are featurized in ranges, with progress
// throughout. A .npy (one array, no rows) is read whole, within its own size limit.
import * as Comlink from 'comlink';
import { coreMemory, loadCore, needCore, type Core, type ParsedTable } from 'marginalia/engine';
import { dataFormat, DATA_LIMITS, rowCap, type DataFormat, type Featurized, type SkippedRow } from './import-data';

type Parsed = ParsedTable;

// The wasm core, loaded once per worker by the package's loader (the SIMD build where the
// browser validates SIMD128, else the scalar one).
async function load(): Promise<Core> {
  await loadCore();
  return needCore();
}


export interface Inspection {
  name: string;
  format: DataFormat;
  columns: string[];
  /** Rows in what was read (the whole file when `complete`, else its first MB). */
  rows: number;
  /** Whether the whole file was read; if not, the rows are counted during the import. */
  complete: boolean;
  /** The file's size in bytes. */
  bytes: number;
  /** Rows that will be left out (in what was read), and why. */
  skipped: SkippedRow[];
  /** The first rows, for the person to see what they are importing. */
  preview: (string | null)[][];
  /** .npy: the array's shape. */
  shape?: number[];
}

export interface FeaturizeOptions {
  kind: 'text' | 'table' | 'embedding';
  textColumn?: string;
  labelColumn?: string;
  /** Tables and CSV vectors: the columns to learn from (default: all but the label). */
  featureColumns?: string[];
}


export type Progress = (done: number, total: number, stage: string) => void;

/** Rows per featurizer call: small enough to report progress often, big enough to be cheap. */
const CHUNK = 500;

/** The file last inspected (a File is a handle: nothing is read until asked). */
let source: { file: File; format: Exclude<DataFormat, 'npy'> } | null = null;
let fileName = '';
let npy: { shape: number[]; data: Float32Array } | null = null;

function mb(n: number): string {
  return `${(n / 1024 / 1024).toFixed(0)} MB`;
}

const api = {
  /** See what a file holds (reading at most its first MB); throws an Error saying what is wrong and where. */
  async inspect(file: File, name: string): Promise<Inspection> {
    source = null;
    npy = null;
    fileName = name;
    const format = dataFormat(name);
    if (!format) throw new Error(`${name}: ${extOf(name)} is not a format this page imports as data (CSV, TSV, JSONL, TXT or NPY; images go in “New project from images”)`);
    if (file.size === 0) throw new Error(`${name} is empty (0 bytes): there is nothing to import`);
    if (format === 'npy' && file.size > DATA_LIMITS.npyBytes)
      throw new Error(`${name} is ${mb(file.size)}; a .npy is read whole (an array has no rows to read one by one), so this page takes .npy files up to ${mb(DATA_LIMITS.npyBytes)}. Save fewer rows (or float32 instead of float64), or save the vectors as CSV, which is read as a stream`);
    const c = await load();
    try {
      if (format === 'npy') {
        const bytes = new Uint8Array(await file.arrayBuffer());
        const r = c.parseNpy(bytes) as { shape: number[]; data: Float32Array };
        if (r.shape.length !== 2)
          throw new Error(`the array has shape (${r.shape.join(', ')}); an embedding file needs two dimensions, (samples, values per sample)`);
        if (r.shape[0] === 0 || r.shape[1] === 0) throw new Error(`the array has shape (${r.shape.join(', ')}): no values to import`);
        checkSize(r.shape[0], r.shape[1], name);
        npy = r;
        const d = r.shape[1];
        const preview = Array.from({ length: Math.min(5, r.shape[0]) }, (_, i) => Array.from(r.data.subarray(i * d, i * d + Math.min(d, 8)), (v) => String(v)));
        return { name, format, columns: [], rows: r.shape[0], complete: true, bytes: file.size, skipped: [], preview, shape: r.shape };
      }
      // The first MB shows the columns and the first rows; a row cut off at its end is not shown.
      const complete = file.size <= DATA_LIMITS.previewBytes;
      const head = new Uint8Array(await file.slice(0, DATA_LIMITS.previewBytes).arrayBuffer());
      const s = new c.TableStream(format, DATA_LIMITS.rows);
      let p: Parsed | null = null;
      try {
        s.push(head);
        p = s.finish(complete);
        const r: Inspection = {
          // Rows past the cap are counted in the preview too (short rows: more than 100,000 in a MB).
          name, format, columns: p.columns, rows: p.rowCount + p.leftOut, complete, bytes: file.size,
          skipped: p.skipped as SkippedRow[],
          preview: p.rows(0, Math.min(5, p.rowCount)) as (string | null)[][],
        };
        source = { file, format };
        return r;
      } finally {
        p?.free();
        s.free();
      }
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  },

  /** Stratified split of class indices (the Rust core's, as the demo's): positions held out. */
  async split(labels: Uint32Array, testFrac: number, seed: number): Promise<Uint32Array> {
    const c = await load();
    return (c.stratifiedSplit(labels, testFrac, seed) as { test: Uint32Array }).test;
  },

  /** Featurize the file last inspected, reporting progress; errors name the file. */
  async featurize(opts: FeaturizeOptions, progress: Progress): Promise<Featurized> {
    try {
      return await featurize(opts, progress);
    } catch (e) {
      throw new Error(`${fileName}: ${(e as Error).message}`);
    }
  },
};

async function featurize(opts: FeaturizeOptions, progress: Progress): Promise<Featurized> {
  const c = await load();
  if (npy) {
    const [n, d] = npy.shape;
    for (let i = 0; i < npy.data.length; i++) {
      if (!Number.isFinite(npy.data[i])) throw new Error(`row ${Math.floor(i / d) + 1}, value ${(i % d) + 1} is ${npy.data[i]}: every value of an embedding must be a finite number`);
    }
    progress(n, n, 'vectors');
    // A copy goes: the parsed array stays whole for a second try (after a storage error).
    const features = npy.data.slice();
    const r: Featurized = {
      width: d, features, lines: Array.from({ length: n }, (_, i) => i + 1), texts: null, rows: null, columns: null, labels: null, snapshot: null, dropped: [],
      skipped: [], leftOut: 0, countStopped: null, read: { bytes: npy.data.byteLength, seconds: 0, wasmBytes: coreMemory()?.buffer.byteLength ?? 0 },
    };
    return Comlink.transfer(r, [features.buffer as ArrayBuffer]);
  }
  if (!source) throw new Error('no file to import: choose one first');
  const cap = rowCap(opts);
  const { p, read } = await readStream(c, source.file, source.format, cap.rows, progress);
  read.cap = cap;
  try {
    return await featurizeRows(c, p, read, opts, progress);
  } finally {
    p.free();
  }
}

/** Bytes between progress reports while reading: often enough to move the bar smoothly. */
const PROGRESS_BYTES = 4 * 1024 * 1024;

/** Read the whole file as a stream into the Rust reader: the rows it keeps, and figures. */
async function readStream(c: Core, file: File, format: Exclude<DataFormat, 'npy'>, maxRows: number, progress: Progress): Promise<{ p: Parsed; read: Featurized['read'] }> {
  const t0 = performance.now();
  const s = new c.TableStream(format, maxRows);
  const reader = file.stream().getReader();
  let bytes = 0;
  let reported = 0;
  try {
    progress(0, file.size, 'reading');
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      s.push(value);
      bytes += value.length;
      if (bytes - reported >= PROGRESS_BYTES) {
        reported = bytes;
        progress(bytes, file.size, `reading (${s.records.toLocaleString('en')} rows)`);
      }
    }
    const p = s.finish(true);
    const rows = p.rowCount + (p.skipped as unknown[]).length + p.leftOut;
    progress(bytes, file.size, `reading (${rows.toLocaleString('en')} rows)`);
    return { p, read: { bytes, seconds: (performance.now() - t0) / 1000, wasmBytes: coreMemory()?.buffer.byteLength ?? 0 } };
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw e;
  } finally {
    s.free();
  }
}

async function featurizeRows(c: Core, p: Parsed, read: Featurized['read'], opts: FeaturizeOptions, progress: Progress): Promise<Featurized> {
  const n = p.rowCount;
  const skipped = p.skipped as SkippedRow[];
  const leftOut = p.leftOut;
  const countStopped = p.countStopped ?? null;
  const lines = Array.from(p.lines);
  const labels = opts.labelColumn ? (p.column(opts.labelColumn) as (string | null)[]) : null;
  const dropped: { line: number; reason: string }[] = [];
  if (opts.kind === 'text') {
    if (!opts.textColumn) throw new Error('choose the column that holds the text');
    if (opts.textColumn === opts.labelColumn) throw new Error(`“${opts.textColumn}” cannot be both the text and the label`);
    const all = p.texts(opts.textColumn, 0, n);
    // A row without text has nothing to show or learn from: left out, and said so.
    const keep: number[] = [];
    all.forEach((t, i) => (t.trim() ? keep.push(i) : dropped.push({ line: lines[i], reason: `the text column “${opts.textColumn}” is empty` })));
    if (keep.length === 0) throw new Error(`the column “${opts.textColumn}” is empty in every row`);
    const texts = keep.map((i) => all[i]);
    progress(0, texts.length, 'fitting the vocabulary');
    // min_df 2 drops words seen once (they cannot generalise), but a small file may have
    // few repeated words; below 200 texts every word counts.
    const fz = c.TextFeaturizer.fit(texts, texts.length < 200 ? 1 : 2, DATA_LIMITS.textFeatures);
    try {
      const width = fz.width;
      checkSize(texts.length, width, 'the text');
      const features = inChunks(texts.length, width, 'TF-IDF', progress, (a, b) => fz.transform(texts.slice(a, b)));
      const r: Featurized = {
        width, features, lines: keep.map((i) => lines[i]), texts, rows: null, columns: null,
        labels: labels ? keep.map((i) => labels[i]) : null, snapshot: fz.snapshot(), dropped, skipped, leftOut, countStopped, read,
      };
      return Comlink.transfer(r, [features.buffer as ArrayBuffer]);
    } finally {
      fz.free();
    }
  }
  const cols = opts.featureColumns ?? p.columns.filter((x) => x !== opts.labelColumn);
  if (cols.length === 0) throw new Error('choose at least one column to learn from');
  if (opts.labelColumn && cols.includes(opts.labelColumn)) throw new Error(`the label column “${opts.labelColumn}” cannot also be a column to learn from`);
  if (opts.kind === 'embedding') {
    const width = cols.length;
    checkSize(n, width, 'the vectors');
    const features = inChunks(n, width, 'vectors', progress, (a, b) => p.vectors(cols, a, b));
    // The numbers are the features: no need to keep them twice as text.
    const r: Featurized = { width, features, lines, texts: null, rows: null, columns: null, labels, snapshot: null, dropped, skipped, leftOut, countStopped, read };
    return Comlink.transfer(r, [features.buffer as ArrayBuffer]);
  }
  const all = p.columns;
  const idx = cols.map((x) => all.indexOf(x));
  const cells = (p.rows(0, n) as (string | null)[][]).map((r) => idx.map((j) => r[j]));
  progress(0, n, 'fitting the encoder');
  const fz = c.TableFeaturizer.fitTable(p, cols);
  try {
    const width = fz.width;
    checkSize(n, width, 'the encoded table');
    const features = inChunks(n, width, 'encoding', progress, (a, b) => fz.transformTable(p, a, b));
    const r: Featurized = { width, features, lines, texts: null, rows: cells, columns: cols, labels, snapshot: fz.snapshot(), dropped, skipped, leftOut, countStopped, read };
    return Comlink.transfer(r, [features.buffer as ArrayBuffer]);
  } finally {
    fz.free();
  }
}

function extOf(name: string): string {
  const base = name.split('/').pop() ?? name;
  return base.includes('.') ? base.slice(base.lastIndexOf('.')) : '(no extension)';
}

/** Rows × width features, made CHUNK rows at a time by `rows(start, end)`, with progress. */
function inChunks(n: number, width: number, stage: string, progress: Progress, rows: (start: number, end: number) => Float32Array): Float32Array {
  const features = new Float32Array(n * width);
  for (let i = 0; i < n; i += CHUNK) {
    const end = Math.min(i + CHUNK, n);
    features.set(rows(i, end), i * width);
    progress(end, n, stage);
  }
  return features;
}

/** The pool matrix must fit in memory (and in storage): refuse clearly before building it. */
function checkSize(rows: number, width: number, what: string): void {
  if (rows * width > DATA_LIMITS.values)
    throw new Error(
      `${what} would be ${rows.toLocaleString('en')} samples × ${width.toLocaleString('en')} features, more than the ${DATA_LIMITS.values.toLocaleString('en')} values this page keeps in memory (a column with very many distinct values, such as an id, adds one feature per value: leave it out)`,
    );
}

export type DataApi = typeof api;
Comlink.expose(api);
