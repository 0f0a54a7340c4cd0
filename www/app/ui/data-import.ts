// The "text, table or embeddings" import: choose a file, see what is in it (columns, the
// first rows, rows that will be skipped), pick the text and label columns, import with
// progress. Parsing and featurizing run in data.worker.ts (Rust, wasm); nothing is stored
// until the whole file has been featurized, and then in one transaction, so a bad file
// never costs a project that was already there.
import * as Comlink from 'comlink';
import type { DataApi, Inspection } from '../data.worker';
import { buildDataProject, DATA_LIMITS, EXPORT_COLUMNS, HELD_OUT, labelledRows, suggest, type DataImportOptions } from '../import-data';
import { putProjectData } from '../store/db';
import { $, describe, el } from './dom';
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

function progress(done: number, total: number, stage: string): void {
  const bar = $('import-progress') as HTMLProgressElement;
  bar.max = Math.max(total, 1);
  bar.value = done;
  $('import-count').textContent = `${stage}: ${done.toLocaleString('en')} / ${total.toLocaleString('en')}`;
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

function showInspection(ins: Inspection): void {
  const s = suggest(ins.format, ins.columns, ins.preview);
  const what = ins.format === 'npy'
    ? `${ins.name}: a NumPy array of ${ins.shape![0].toLocaleString('en')} vectors × ${ins.shape![1].toLocaleString('en')} values.`
    : `${ins.name}: ${ins.format.toUpperCase()}, ${ins.rows.toLocaleString('en')} rows, ${ins.columns.length} column(s).`;
  const summary: (string | Node)[] = [what];
  if (ins.skipped.length) {
    summary.push(
      el('br'),
      `${ins.skipped.length} row(s) have the wrong number of fields and will be skipped: ${lineList(ins.skipped.map((r) => r.line))} (the header has ${ins.skipped[0].expected}).`,
    );
  }
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
  progress(0, 1, 'reading');
  report(`Reading ${file.name}…`);
  // Refused by size before a byte is read: a 200 MB file costs nothing and freezes nothing.
  if (file.size > DATA_LIMITS.bytes) {
    done();
    report(`${file.name} is ${(file.size / 1024 / 1024).toFixed(0)} MB; this page imports data files up to ${DATA_LIMITS.bytes / 1024 / 1024} MB, because every sample's features are kept in memory while you label. Split the file (or import a sample of it) and try again. Nothing was stored; your projects are untouched.`);
    return;
  }
  try {
    inspected = await freshWorker().inspect(file, file.name);
    progress(1, 1, 'read');
    report();
    $('import-status').hidden = true;
    showInspection(inspected);
  } catch (e) {
    done();
    report(`${describe(e)}. Nothing was stored; your projects are untouched.`);
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
    const f = await api.featurize(
      { kind, textColumn: kind === 'text' ? ($('data-text') as HTMLSelectElement).value : undefined, labelColumn: labelColumn ?? undefined, featureColumns: kind === 'text' ? undefined : featureColumns },
      Comlink.proxy(progress),
    );
    // A fixed held-out set, split per class by the Rust core (seed 0, as the demo's).
    const heldOut = new Set<number>();
    if (opts.labels === 'heldout' && f.labels) {
      const { rows, classes } = labelledRows(f.labels);
      if (new Set(classes).size >= 2) for (const j of await api.split(classes, HELD_OUT, 0)) heldOut.add(rows[j]);
    }
    const r = buildDataProject(newProjectId(), ins.name, f, opts, Date.now(), heldOut);
    progress(0, 1, 'storing');
    await putProjectData(app.db, r.project, r.samples, r.labels, r.features);
    progress(1, 1, 'stored');
    const lines: (string | Node)[] = [
      `Imported ${r.samples.length.toLocaleString('en')} ${kind === 'text' ? 'texts' : kind === 'table' ? 'rows' : 'vectors'} into “${r.project.name}” (${f.width.toLocaleString('en')} features each${r.labels.length ? `; ${r.labels.length} labelled from “${labelColumn}”` : ''}${r.project.classNames.length ? `; classes: ${r.project.classNames.join(', ')}` : ''}).`,
    ];
    if (ins.skipped.length) lines.push(`Skipped ${ins.skipped.length} row(s) with the wrong number of fields: ${lineList(ins.skipped.map((x) => x.line))} (the header has ${ins.skipped[0].expected}).`);
    if (f.dropped.length) lines.push(`Skipped ${f.dropped.length} row(s) with no text: ${lineList(f.dropped.map((x) => x.line))}.`);
    lines.push(...r.notes);
    done();
    $('data-form').hidden = true;
    report(...lines);
    await app.open(r.project.id);
    await renderProjects(app);
  } catch (e) {
    report(`The import failed: ${describe(e)}. Nothing was stored; your other projects are untouched.`);
  } finally {
    ($('data-import') as HTMLButtonElement).disabled = false;
  }
}

export function wireDataImport(app: AppHandle): void {
  const input = $('pick-data') as HTMLInputElement;
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    input.value = '';
    if (f) void pick(f);
  });
  const drop = $('drop-data');
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    const files = Array.from(ev.dataTransfer?.files ?? []);
    if (files.length > 1) report(`${files.length} files were dropped; a data project comes from one file. Nothing was stored; your projects are untouched.`);
    else if (files[0]) void pick(files[0]);
  });
  for (const id of ['data-kind', 'data-label']) $(id).addEventListener('change', syncForm);
  $('data-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void runDataImport(app);
  });
}
