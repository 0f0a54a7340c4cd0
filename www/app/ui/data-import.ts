// The "text, table or embeddings" import: choose a file, see what is in it (columns, the
// first rows, rows that will be skipped; from its first MB), pick the text and label
// columns, import with progress (the bytes read, then the rows featurized). Reading,
// parsing and featurizing run in data.worker.ts (Rust, wasm), the file as a stream; nothing
// is stored until the whole file has been featurized, and then in one transaction, so a
// bad file never costs a project that was already there.
import * as Comlink from 'comlink';
import type { DataApi, Inspection } from '../data.worker';
import { TEXT_ENCODER_DIM } from 'marginalia/encoder';
import { encodeTexts } from '../encoder-pool';
import { buildDataProject, DATA_LIMITS, EXPORT_COLUMNS, HELD_OUT, labelledRows, limitsText, suggest, withEmbeddings, type DataImportOptions, type Featurized, type SkippedRow } from '../import-data';
import { putProjectData, type ProjectRecord } from '../store/db';
import { $, describe, el, stopButton, wireDropZone } from './dom';
import { newProjectId, renderProjects, type AppHandle } from './projects-view';

let worker: Worker | null = null;
let api: Comlink.Remote<DataApi> | null = null;
let inspected: Inspection | null = null;

function freshWorker(): Comlink.Remote<DataApi> {
  worker?.terminate();
  worker = new Worker(new URL('../data.worker.ts', import.meta.url), { type: 'module' });
  api = Comlink.wrap<DataApi>(worker);
  return api;
}

function done(): void {
  worker?.terminate();
  worker = null;
  api = null;
  inspected = null;
}

/** "lines 4, 9 and 12" (the first 20, then how many more). */
function lineList(lines: number[]): string {
  const shown = lines.slice(0, 20).map(String);
  const more = lines.length - shown.length;
  if (more > 0) return `lines ${shown.join(', ')} and ${more} more`;
  return shown.length === 1 ? `line ${shown[0]}` : `lines ${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

function report(...lines: (string | Node)[]): void {
  $('import-status').hidden = false;
  $('import-report').replaceChildren(...lines.map((l) => (typeof l === 'string' ? el('p', {}, l) : l)));
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

/** The bar and its words; the reading stage counts bytes (shown in MB), the others rows. */
function progress(done: number, total: number, stage: string): void {
  const bar = $('import-progress') as HTMLProgressElement;
  bar.max = Math.max(total, 1);
  bar.value = done;
  $('import-count').textContent = stage.startsWith('reading')
    ? `${stage}: ${mb(done)} of ${mb(total)}`
    : `${stage}: ${done.toLocaleString('en')} / ${total.toLocaleString('en')}`;
}

/** What the reader skipped, one sentence per reason; `verb` says "will be" or "were". */
function skippedLines(skipped: SkippedRow[], future: boolean): string[] {
  const out: string[] = [];
  const by = (k: SkippedRow['kind']) => skipped.filter((r) => r.kind === k);
  const lines = (rows: SkippedRow[]) => lineList(rows.map((r) => r.line));
  const width = by('fields');
  if (width.length)
    out.push(future
      ? `${width.length} row(s) have the wrong number of fields and will be skipped: ${lines(width)} (the header has ${width[0].expected}).`
      : `Skipped ${width.length} row(s) with the wrong number of fields: ${lines(width)} (the header has ${width[0].expected}).`);
  const utf8 = by('utf8');
  if (utf8.length)
    out.push(`${future ? `${utf8.length} row(s) are not UTF-8 text and will be skipped` : `Skipped ${utf8.length} row(s) that are not UTF-8 text`}: ${lines(utf8)} (first: ${utf8[0].message}). Save the file as UTF-8 to keep them.`);
  const json = by('json');
  if (json.length)
    out.push(`${future ? `${json.length} line(s) are not a JSON object with a flat value and will be skipped` : `Skipped ${json.length} line(s) that are not a JSON object with a flat value`}: ${lines(json)} (first: ${json[0].message}).`);
  return out;
}

function options(select: HTMLSelectElement, values: string[], none: string | null, chosen: string | null): void {
  select.replaceChildren(...(none != null ? [el('option', { value: '' }, none)] : []), ...values.map((v) => el('option', { value: v }, v)));
  select.value = chosen ?? '';
}

/** Show or hide the fields the chosen kind uses; keep the label column out of the features. */
function syncForm(): void {
  const kind = ($('data-kind') as HTMLSelectElement).value;
  const npy = inspected?.format === 'npy';
  $('data-text-wrap').hidden = kind !== 'text';
  $('data-text-features-wrap').hidden = kind !== 'text';
  $('data-text-features-why').hidden = kind !== 'text';
  $('data-text-features-why').textContent =
    ($('data-text-features') as HTMLSelectElement).value === 'pretrained'
      ? 'Sentence embeddings (all-MiniLM-L6-v2, computed in this browser; a 23 MB download the first time) know that “refund” and “money back” mean the same; TF-IDF keeps the exact words, such as link domains and codes. Together they learned best on every text set measured. The encoder knows English: for other languages choose words only.'
      : 'TF-IDF: the words as they are written, in any language. Nothing is downloaded.';
  $('data-label-wrap').hidden = npy;
  $('data-labels-wrap').hidden = npy || !($('data-label') as HTMLSelectElement).value;
  $('data-columns').hidden = kind === 'text' || npy;
  const label = ($('data-label') as HTMLSelectElement).value;
  for (const box of Array.from($('data-column-boxes').querySelectorAll<HTMLInputElement>('input'))) {
    const isLabel = box.value === label;
    if (isLabel) box.checked = false;
    box.disabled = isLabel;
  }
}

/** Rows in the whole file, from the rows in its first MB (two significant digits). */
function estimate(ins: Inspection): number {
  const n = (ins.rows + ins.skipped.length) * (ins.bytes / DATA_LIMITS.previewBytes);
  const unit = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(n, 1))) - 1);
  return Math.round(n / unit) * unit;
}

function showInspection(ins: Inspection): void {
  const s = suggest(ins.format, ins.columns, ins.preview);
  const what = ins.format === 'npy'
    ? `${ins.name}: a NumPy array of ${ins.shape![0].toLocaleString('en')} vectors × ${ins.shape![1].toLocaleString('en')} values.`
    : ins.complete
      ? `${ins.name}: ${ins.format.toUpperCase()}, ${ins.rows.toLocaleString('en')} rows, ${ins.columns.length} column(s).`
      : `${ins.name}: ${ins.format.toUpperCase()}, ${mb(ins.bytes)}, ${ins.columns.length} column(s); ${ins.rows.toLocaleString('en')} rows in its first ${mb(DATA_LIMITS.previewBytes)}, so about ${estimate(ins).toLocaleString('en')} in all. The rows are counted as the file is read; the first ${DATA_LIMITS.rows.toLocaleString('en')} are imported (${Math.floor(DATA_LIMITS.values / DATA_LIMITS.textFeatures).toLocaleString('en')} for text).`;
  const summary: (string | Node)[] = [what];
  for (const line of skippedLines(ins.skipped, true)) summary.push(el('br'), ins.complete ? line : `In the first ${mb(DATA_LIMITS.previewBytes)}: ${line}`);
  $('data-summary').replaceChildren(...summary);
  ($('data-name') as HTMLInputElement).value = ins.name.replace(/\.[^.]+$/, '').slice(0, 100) || 'Imported data';
  const kind = $('data-kind') as HTMLSelectElement;
  kind.value = s.kind;
  for (const o of Array.from(kind.options)) o.disabled = ins.format === 'npy' ? o.value !== 'embedding' : ins.format === 'txt' ? o.value !== 'text' : false;
  options($('data-text') as HTMLSelectElement, ins.columns, null, s.text);
  options($('data-label') as HTMLSelectElement, ins.columns, '(none)', s.label);
  ($('data-labels') as HTMLSelectElement).value = 'classes';
  // A Marginalia label export's own columns are not features of the data.
  $('data-column-boxes').replaceChildren(
    ...ins.columns.map((c) => {
      const box = el('input', { type: 'checkbox', value: c });
      box.checked = !EXPORT_COLUMNS.includes(c);
      return el('label', {}, box, ' ', c);
    }),
  );
  const head = ins.format === 'npy' ? Array.from({ length: ins.preview[0]?.length ?? 0 }, (_, j) => `value ${j + 1}`) : ins.columns;
  $('data-preview').replaceChildren(
    el('thead', {}, el('tr', {}, ...head.map((c) => el('th', { scope: 'col' }, c)))),
    el('tbody', {}, ...ins.preview.map((r) => el('tr', {}, ...r.map((v) => el('td', {}, v ?? ''))))),
  );
  $('data-form').hidden = false;
  syncForm();
}

async function pick(file: File): Promise<void> {
  $('data-form').hidden = true;
  progress(0, 1, 'preview');
  report(`Reading ${file.name}…`);
  try {
    inspected = await freshWorker().inspect(file, file.name);
    progress(1, 1, 'preview');
    report();
    $('import-status').hidden = true;
    showInspection(inspected);
  } catch (e) {
    done();
    report(`${describe(e)}. Nothing was stored; your projects are untouched.`);
  }
}

/**
 * The sentence embeddings of a text import's rows beside their TF-IDF, encoded on a pool of
 * workers with progress and a stop button. Stopped, failed or too big: the TF-IDF alone,
 * and the note says why (nothing is lost; the project can be imported again).
 */
async function addEmbeddings(f: Featurized): Promise<{ f: Featurized | null; features: ProjectRecord['textFeatures']; note: string }> {
  const texts = f.texts ?? [];
  const n = texts.length;
  if (n * (f.width + TEXT_ENCODER_DIM) > DATA_LIMITS.values)
    return { f: null, features: null, note: `Learning from the words only (TF-IDF): ${n.toLocaleString('en')} texts with sentence embeddings would pass the limit of ${DATA_LIMITS.values.toLocaleString('en')} stored values.` };
  const cancel = $('import-cancel') as HTMLButtonElement;
  const stop = stopButton('Stop encoding (use words only)');
  cancel.hidden = false;
  cancel.disabled = false;
  try {
    const e = await encodeTexts(texts, progress, stop.signal);
    const where = `on ${e.workers} ${e.workers === 1 ? 'core' : 'cores'}`;
    const cut = e.truncated ? `; ${e.truncated.toLocaleString('en')} ${e.truncated === 1 ? 'text was' : 'texts were'} cut at the encoder's 128 tokens` : '';
    return {
      f: withEmbeddings(f, e.features, e.dim),
      features: { kind: 'tfidf+pretrained', encoder: e.version, dim: e.dim, tfidfWidth: f.width },
      note: `Learning from words and meaning: ${f.width.toLocaleString('en')} TF-IDF terms and ${e.dim} values per text from ${e.version}, computed for all ${n.toLocaleString('en')} texts in ${(e.ms / 1000).toFixed(1)} s ${where} (${Math.round(n / Math.max(e.ms / 1000, 1e-3))} per second)${cut}.`,
    };
  } catch (e) {
    const why = stop.signal.aborted ? 'you stopped the encoding' : `the sentence encoder failed (${describe(e)})`;
    return { f: null, features: null, note: `Learning from the words only (TF-IDF): ${why}. Import the file again to add sentence embeddings.` };
  } finally {
    cancel.hidden = true;
    cancel.onclick = null;
  }
}

async function runDataImport(app: AppHandle): Promise<void> {
  const ins = inspected;
  if (!ins || !api) return;
  const kind = ($('data-kind') as HTMLSelectElement).value as DataImportOptions['kind'];
  const labelColumn = ins.format === 'npy' ? null : ($('data-label') as HTMLSelectElement).value || null;
  const opts: DataImportOptions = {
    name: ($('data-name') as HTMLInputElement).value.trim() || ins.name,
    kind,
    labelColumn,
    labels: ($('data-labels') as HTMLSelectElement).value as DataImportOptions['labels'],
  };
  const featureColumns = Array.from($('data-column-boxes').querySelectorAll<HTMLInputElement>('input:checked')).map((b) => b.value);
  ($('data-import') as HTMLButtonElement).disabled = true;
  report(`Importing ${ins.name}…`);
  try {
    let f = await api.featurize(
      { kind, textColumn: kind === 'text' ? ($('data-text') as HTMLSelectElement).value : undefined, labelColumn: labelColumn ?? undefined, featureColumns: kind === 'text' ? undefined : featureColumns },
      Comlink.proxy(progress),
    );
    const meaning = kind === 'text' && ($('data-text-features') as HTMLSelectElement).value === 'pretrained' ? await addEmbeddings(f) : null;
    if (meaning?.f) f = meaning.f;
    // A fixed held-out set, split per class by the Rust core (seed 0, as the demo's).
    const heldOut = new Set<number>();
    if (opts.labels === 'heldout' && f.labels) {
      const { rows, classes } = labelledRows(f.labels);
      if (new Set(classes).size >= 2) for (const j of await api.split(classes, HELD_OUT, 0)) heldOut.add(rows[j]);
    }
    const r = buildDataProject(newProjectId(), ins.name, f, opts, Date.now(), heldOut);
    if (meaning?.features) r.project.textFeatures = meaning.features;
    if (meaning) r.notes.unshift(meaning.note);
    progress(0, r.samples.length, 'storing');
    await putProjectData(app.db, r.project, r.samples, r.labels, r.features, (n, total) => progress(n, total, 'storing'));
    progress(r.samples.length, r.samples.length, 'stored');
    const lines: (string | Node)[] = [
      `Imported ${r.samples.length.toLocaleString('en')} ${kind === 'text' ? 'texts' : kind === 'table' ? 'rows' : 'vectors'} into “${r.project.name}” (${f.width.toLocaleString('en')} features each${r.labels.length ? `; ${r.labels.length} labelled from “${labelColumn}”` : ''}${r.project.classNames.length ? `; classes: ${r.project.classNames.join(', ')}` : ''}).`,
    ];
    if (f.leftOut > 0) {
      const read = r.samples.length + f.skipped.length + f.dropped.length;
      const why = f.read.cap?.why ?? `${DATA_LIMITS.rows.toLocaleString('en')} samples per project`;
      lines.push(`${ins.name} (${mb(ins.bytes)}): the first ${read.toLocaleString('en')} rows were imported; ${f.countStopped ? 'at least ' : ''}${f.leftOut.toLocaleString('en')} more were left out (the limit is ${why}: split the file to label the rest).`);
    }
    if (f.countStopped) lines.push(`Counting the rows after those stopped at a broken row: ${f.countStopped}. The rows imported are not affected.`);
    lines.push(...skippedLines(f.skipped, false));
    if (f.dropped.length) lines.push(`Skipped ${f.dropped.length} row(s) with no text: ${lineList(f.dropped.map((x) => x.line))}.`);
    lines.push(...r.notes);
    done();
    $('data-form').hidden = true;
    report(...lines);
    // The read's figures (bytes, seconds, wasm memory), for bench/import-stream.mjs.
    $('import-report').dataset.read = JSON.stringify(f.read);
    await app.open(r.project.id);
    await renderProjects(app);
  } catch (e) {
    report(`The import failed: ${describe(e)}. Nothing was stored; your other projects are untouched.`);
  } finally {
    ($('data-import') as HTMLButtonElement).disabled = false;
  }
}

export function wireDataImport(app: AppHandle): void {
  $('data-limits').textContent = limitsText();
  const input = $('pick-data') as HTMLInputElement;
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    input.value = '';
    if (f) void pick(f);
  });
  wireDropZone($('drop-data'), (data) => {
    const files = Array.from(data.files);
    if (files.length > 1) report(`${files.length} files were dropped; a data project comes from one file. Nothing was stored; your projects are untouched.`);
    else if (files[0]) void pick(files[0]);
  });
  for (const id of ['data-kind', 'data-label', 'data-text-features']) $(id).addEventListener('change', syncForm);
  $('data-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void runDataImport(app);
  });
}
