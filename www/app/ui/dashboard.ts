// The dashboard: labels per class; accuracy against the number of labels (uPlot): the
// cross-validated estimate with ± one standard error, and held-out accuracy when the
// project has a held-out set; the confusion matrix of the cross-validated predictions;
// the engine's stop suggestion; the learner's settings (changeable); the model export;
// the storage status. The numbers come from the worker (OpenProject.evaluate), never from
// work on this thread.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { OpenProject } from '../open-project';
import { BACKEND_LABELS, BACKENDS, MAX_BATCH, MODEL_LABELS, MODELS, type Backend, type LearnerSettings } from '../settings';
import { renderScoring } from './label-view';
import { download, modelManifest, modelZip, safeName } from '../export';
import { featureRows, poolFeatures, usesStoredFeatures } from '../pool';
import { projectFeatures, storageStatus } from '../store/db';
import { $, describe, el, formatBytes } from './dom';

let plot: uPlot | null = null;
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export function renderDashboard(s: OpenProject): void {
  const names = s.project.classNames;
  const counts = new Array(names.length).fill(0);
  for (const l of s.labels.values()) counts[l.label]++;
  const body = $('per-class').querySelector('tbody')!;
  body.replaceChildren(...names.map((n, i) => el('tr', {}, el('td', {}, n), el('td', {}, String(counts[i])))));
  renderSettings(s);
  renderChart(s);
  renderConfusion(s);
  renderStop(s);
}

function renderSettings(s: OpenProject): void {
  const model = $<HTMLSelectElement>('set-model');
  if (!model.options.length) model.append(...MODELS.map((m) => el('option', { value: m }, MODEL_LABELS[m])));
  const strategy = $<HTMLSelectElement>('set-strategy');
  if (strategy.options.length !== s.strategyNames.length) {
    strategy.replaceChildren(...s.strategyNames.map((n) => el('option', { value: n }, n)));
  }
  const batch = $<HTMLInputElement>('set-batch');
  batch.max = String(MAX_BATCH);
  const compute = $<HTMLSelectElement>('set-compute');
  if (!compute.options.length) compute.append(...BACKENDS.map((b) => el('option', { value: b }, BACKEND_LABELS[b])));
  const st = s.settings;
  model.value = st.model;
  strategy.value = st.strategy;
  compute.value = st.backend ?? 'auto';
  // Not while the person is typing a number in it.
  if (document.activeElement !== batch) batch.value = String(st.batchSize);
  for (const c of [model, strategy, batch, compute]) c.disabled = s.readOnly;
  renderScoring(s);
  const kind = s.evaluation?.modelKind;
  $('set-trained').textContent = kind ? `${kind}, after every label, in the background (in a Web Worker)` : 'not yet (label samples of two classes)';
}

function renderChart(s: OpenProject): void {
  const h = s.project.history.filter((e) => e.cv || e.accuracy != null);
  const box = $('chart');
  plot?.destroy();
  plot = null;
  box.replaceChildren();
  const lastCv = [...h].reverse().find((e) => e.cv);
  const lastHeld = [...h].reverse().find((e) => e.accuracy != null);
  const notes: string[] = [];
  if (lastCv?.cv) notes.push(`Cross-validated estimate: ${pct(lastCv.cv.mean)} ± ${pct(lastCv.cv.se)} (cross-validation on the ${lastCv.labels} labels, 5 folds or one per label when fewer; ± one standard error, somewhat optimistic).`);
  if (lastHeld) notes.push(`Held-out accuracy: ${pct(lastHeld.accuracy!)} with ${lastHeld.labels} labels (held-out set of ${s.test.length}).`);
  if (!s.test.length) notes.push('This project has no held-out set, so only the cross-validated estimate is shown.');
  if (h.length === 0) notes.unshift('The chart appears once the model has been measured (label a few samples of two classes).');
  $('chart-note').textContent = notes.join(' ');
  const cal = s.evaluation?.cv;
  $('calibration-note').textContent = cal
    ? `The confidence shown under each sample (“… % sure”) is calibrated on these same out-of-fold predictions (temperature scaling, T = ${cal.temperature.toFixed(2)}): their expected calibration error is ${pct(cal.ece)} as the model gives them and ${pct(cal.eceCalibrated)} calibrated.`
    : 'Until the first estimate, the confidence shown under each sample is the model’s own, uncalibrated.';
  if (h.length === 0) return;
  const x = h.map((e) => e.labels);
  const cv = h.map((e) => (e.cv ? e.cv.mean * 100 : null));
  const lo = h.map((e) => (e.cv ? Math.max(0, (e.cv.mean - e.cv.se) * 100) : null));
  const hi = h.map((e) => (e.cv ? Math.min(100, (e.cv.mean + e.cv.se) * 100) : null));
  const held = h.map((e) => (e.accuracy != null ? e.accuracy * 100 : null));
  plot = new uPlot(
    {
      width: 420,
      height: 220,
      scales: { x: { time: false }, y: { range: [0, 100] } },
      axes: [{ label: 'labels' }, { label: 'accuracy %' }],
      series: [
        {},
        { label: 'CV estimate', stroke: '#b7410e', width: 2, points: { show: true }, spanGaps: true },
        { label: '+1 SE', stroke: 'rgba(183,65,14,0.25)', width: 1, spanGaps: true },
        { label: '−1 SE', stroke: 'rgba(183,65,14,0.25)', width: 1, spanGaps: true },
        { label: 'held-out accuracy', stroke: '#2b6cb0', width: 2, points: { show: true }, spanGaps: true },
      ],
      // The band between +1 SE and −1 SE: the estimate's uncertainty.
      bands: [{ series: [2, 3], fill: 'rgba(183,65,14,0.12)' }],
      legend: { show: true, live: false },
    },
    [x, cv, hi, lo, held],
    box,
  );
}

function renderConfusion(s: OpenProject): void {
  const names = s.project.classNames;
  const table = $<HTMLTableElement>('confusion');
  const cv = s.evaluation?.cv;
  const note = $('confusion-note');
  if (!cv) {
    table.hidden = true;
    note.textContent = s.evaluation
      ? 'Appears once samples of at least two classes are labelled.'
      : 'Computing the cross-validated predictions in the background…';
    return;
  }
  const k = Math.round(Math.sqrt(cv.confusion.length));
  const n = names.length;
  table.hidden = false;
  const head = el('tr', {}, el('td', {}), ...names.map((c) => el('th', { scope: 'col' }, c)));
  const rows = names.map((c, i) => {
    const cells = names.map((_, j) => {
      const v = i < k && j < k ? cv.confusion[i * k + j] : 0;
      return el('td', { class: v === 0 ? 'zero' : i === j ? 'hit' : 'miss' }, String(v));
    });
    return el('tr', {}, el('th', { scope: 'row' }, c), ...cells);
  });
  table.querySelector('thead')!.replaceChildren(head);
  table.querySelector('tbody')!.replaceChildren(...rows);
  const total = cv.confusion.reduce((a, b) => a + b, 0);
  const right = names.reduce((a, _, i) => a + (i < k ? cv.confusion[i * k + i] : 0), 0);
  note.textContent = `Each labelled sample predicted by a model that did not train on it (${cv.folds}-fold cross-validation): ${right} of ${total} right. Rows: the label given; columns: the prediction.${n > 12 ? ' Scroll sideways for every class.' : ''}`;
}

function renderStop(s: OpenProject): void {
  const st = s.evaluation?.stop;
  $('stop').textContent = !st ? 'Computing…' : `${st.stop ? 'You could stop here' : 'Keep labelling'}: ${st.reason}`;
}

/** Read the settings form; a problem is shown next to it and nothing is changed. */
function wireSettings(get: () => OpenProject | null): void {
  const status = $('settings-status');
  const change = async (patch: Partial<LearnerSettings>) => {
    const s = get();
    if (!s) return;
    const cur: LearnerSettings = { backend: 'auto', ...s.settings }; // stored before the compute choice: auto
    if (Object.entries(patch).every(([k, v]) => cur[k as keyof LearnerSettings] === v)) return; // nothing changed
    status.textContent = 'Applying…';
    await s.changeSettings(patch);
    // changeSettings reports its own failures (hooks.problem); show what is in force.
    const now = s.settings;
    status.textContent = `In force: ${MODEL_LABELS[now.model]}, strategy ${now.strategy}, batches of ${now.batchSize}, compute ${BACKEND_LABELS[now.backend ?? 'auto']}. Retraining…`;
    renderSettings(s);
  };
  $<HTMLSelectElement>('set-model').addEventListener('change', (ev) => void change({ model: (ev.target as HTMLSelectElement).value as LearnerSettings['model'] }));
  $<HTMLSelectElement>('set-strategy').addEventListener('change', (ev) => void change({ strategy: (ev.target as HTMLSelectElement).value }));
  $<HTMLSelectElement>('set-compute').addEventListener('change', (ev) => void change({ backend: (ev.target as HTMLSelectElement).value as Backend }));
  const batch = $<HTMLInputElement>('set-batch');
  // Enter in the number field submits the form: apply the value instead of navigating.
  $('learner-settings').addEventListener('submit', (ev) => {
    ev.preventDefault();
    batch.dispatchEvent(new Event('change'));
  });
  batch.addEventListener('change', () => {
    const v = Number(batch.value);
    if (!Number.isInteger(v) || v < 1 || v > MAX_BATCH) {
      status.textContent = `The batch size must be a whole number from 1 to ${MAX_BATCH}; “${batch.value}” was not applied.`;
      const s = get();
      if (s) batch.value = String(s.settings.batchSize);
      return;
    }
    void change({ batchSize: v });
  });
}

/**
 * Export the trained model: the worker writes the bytes, the app reads them back (as any
 * other program would, through TrainedModel.fromBytes) and checks they predict exactly as
 * the session on some pool samples before offering the download.
 */
async function exportModel(s: OpenProject): Promise<void> {
  const status = $('model-status');
  status.textContent = 'Exporting…';
  try {
    const info = await s.exportModel();
    const rows = s.pool.slice(0, 64);
    // The features the learner sees: pixels, or (convolutional, text, table) the stored ones.
    const stored = usesStoredFeatures(s.project) ? featureRows(await projectFeatures(s.db, s.project.id), s.bytesPerSample).rowOf : undefined;
    if (stored && rows.some((r) => !stored.has(r.id))) throw new Error('the stored features of some samples could not be read');
    const feats = poolFeatures(s.project, rows, stored);
    const [back, live] = await Promise.all([s.engine.predictWithModel(info.bytes, feats), s.engine.predict(feats)]);
    const same = back.probs.length === live.length && back.probs.every((v, i) => Object.is(v, live[i]));
    if (!same) throw new Error('the exported file does not predict what the session predicts (please report this)');
    const manifest = modelManifest(s.project, info, s.settings.strategy, s.labels.size, new Date());
    const zip = modelZip(info.bytes, manifest, s.project.featurizer);
    download(zip, `${safeName(s.project.name, 'project')}-model.zip`, 'application/zip');
    status.textContent = `Downloaded: ${info.kind}, ${info.width} features, ${s.project.classNames.length} classes, ${formatBytes(zip.length)}. Read back and checked: identical predictions on ${rows.length} samples.`;
  } catch (e) {
    status.textContent = `The model could not be exported: ${describe(e)}. Nothing stored was changed.`;
  }
}

export function wireDashboard(get: () => OpenProject | null): void {
  wireSettings(get);
  $('export-model').addEventListener('click', () => {
    const s = get();
    if (s) void exportModel(s);
  });
}

/** Ask for persistent storage once; show whether granted and the space used. */
export async function renderStorage(ask: boolean): Promise<void> {
  const st = await storageStatus(ask);
  $('persisted').textContent =
    st.persisted == null ? 'unknown (this browser does not say)' : st.persisted ? 'yes: the browser will not evict this data' : 'not granted: the browser may evict this data under storage pressure; keep a backup';
  $('usage').textContent = st.usage == null ? 'unknown' : `${formatBytes(st.usage)}${st.quota ? ` of ${formatBytes(st.quota)} available` : ''}`;
}
