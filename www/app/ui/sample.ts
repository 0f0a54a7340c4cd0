// How a sample shows, by project kind: an image on a canvas, text as text, a table row as
// a card of column → value, an embedding as a short summary of its numbers. Everything
// from the person's file goes in as text (textContent), never as HTML.
import type { ProjectRecord, SampleRecord } from '../store/db';
import { drawPixels, el } from './dom';

/** A table row as a two-column table (header cell: the column; data cell: the value). */
export function cardRows(columns: string[], row: (string | null)[]): HTMLTableRowElement[] {
  return columns.map((c, i) => {
    const v = row[i];
    const td = el('td', {}, v ?? '(missing)');
    if (v == null) td.className = 'missing';
    return el('tr', {}, el('th', { scope: 'row' }, c), td);
  });
}

/** An embedding in words: how many values and the first few. */
export function vectorSummary(features: Float32Array | undefined): string {
  if (!features) return '';
  const first = Array.from(features.subarray(0, 6), (v) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.001) ? v.toExponential(2) : v.toFixed(3)));
  return `A vector of ${features.length} values: ${first.join(', ')}${features.length > 6 ? ', …' : ''}`;
}

/** A new element showing `sm` (for the batch view's tiles). */
export function sampleElement(p: ProjectRecord, sm: SampleRecord, label: string, features?: Float32Array): HTMLElement {
  switch (p.kind) {
    case 'image': {
      const canvas = el('canvas', { role: 'img', 'aria-label': label });
      drawPixels(canvas, sm.pixels!, p.width, p.height, p.channels);
      return canvas;
    }
    case 'text':
      return el('p', { class: 'tile-text', 'aria-label': label }, sm.text ?? '');
    case 'table':
      return el('table', { class: 'tile-card', 'aria-label': label }, el('tbody', {}, ...cardRows(p.columns ?? [], sm.row ?? [])));
    case 'embedding':
      return el('p', { class: 'tile-text', 'aria-label': label }, `${sm.source ?? ''}: ${vectorSummary(features)}`);
  }
}
