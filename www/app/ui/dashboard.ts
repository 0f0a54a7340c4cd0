// The dashboard: labels per class, held-out accuracy against the number of labels
// (uPlot), the learner's settings and the storage status.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { QUEUE, type Session } from '../session';
import { storageStatus } from '../store/db';
import { $, el, formatBytes } from './dom';
import { BATCH } from './batch-view';

let plot: uPlot | null = null;

export function renderDashboard(s: Session): void {
  const counts = new Array(s.project.classNames.length).fill(0);
  for (const l of s.labels.values()) counts[l.label]++;
  const body = $('per-class').querySelector('tbody')!;
  body.replaceChildren(...s.project.classNames.map((n, i) => el('tr', {}, el('td', {}, n), el('td', {}, String(counts[i])))));
  $('set-batch').textContent = `${BATCH} in the batch view; ${QUEUE} queued ahead`;
  const h = s.project.history;
  const box = $('chart');
  plot?.destroy();
  plot = null;
  box.replaceChildren();
  if (h.length < 2) {
    $('chart-note').textContent = s.test.length
      ? 'The chart appears once the model has been measured twice (label a few samples of two classes).'
      : 'This project has no held-out set with known labels, so accuracy cannot be measured (the demo has one).';
    return;
  }
  $('chart-note').textContent = `Latest: ${(h[h.length - 1].accuracy! * 100).toFixed(1)}% with ${h[h.length - 1].labels} labels (held-out set of ${s.test.length}).`;
  plot = new uPlot(
    {
      width: 420,
      height: 220,
      scales: { x: { time: false }, y: { range: [0, 100] } },
      axes: [{ label: 'labels' }, { label: 'accuracy %' }],
      series: [{}, { label: 'held-out accuracy', stroke: '#2b6cb0', width: 2, points: { show: true } }],
      legend: { show: false },
    },
    [h.map((e) => e.labels), h.map((e) => (e.accuracy ?? 0) * 100)],
    box,
  );
}

/** Ask for persistent storage once; show whether granted and the space used. */
export async function renderStorage(ask: boolean): Promise<void> {
  const st = await storageStatus(ask);
  $('persisted').textContent =
    st.persisted == null ? 'unknown (this browser does not say)' : st.persisted ? 'yes: the browser will not evict this data' : 'not granted: the browser may evict this data under storage pressure; keep a backup';
  $('usage').textContent = st.usage == null ? 'unknown' : `${formatBytes(st.usage)}${st.quota ? ` of ${formatBytes(st.quota)} available` : ''}`;
}
