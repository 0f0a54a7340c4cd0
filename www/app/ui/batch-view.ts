// The batch view: a grid of the next N queried samples with the model's guesses filled
// in, corrected with a click (the menu) or a key (focus a tile, press a class key), and
// accepted together in one transaction.
import { classForKey, classKeys } from '../keys';
import type { OpenProject } from '../open-project';
import { $, bestGuess, el } from './dom';
import { sampleElement } from './sample';

export function renderBatch(s: OpenProject): void {
  const grid = $('batch-grid');
  grid.replaceChildren();
  const { classNames } = s.project;
  const keys = classKeys(classNames);
  for (const id of s.batch(s.settings.batchSize)) {
    const canvas = sampleElement(s.project, s.sample(id), `sample ${id}`, s.features?.get(id));
    const sel = el('select', { 'aria-label': `label for sample ${id}` });
    sel.append(el('option', { value: '' }, '(leave unlabelled)'));
    classNames.forEach((n, i) => sel.append(el('option', { value: String(i) }, n)));
    const g = bestGuess(s.probs(id));
    if (g && g.index < classNames.length) sel.value = String(g.index);
    const tile = el('figure', { class: `tile tile-${s.project.kind}`, tabindex: '0', 'data-sample-id': String(id) }, canvas, sel);
    tile.addEventListener('keydown', (ev) => {
      if (ev.target !== tile) return;
      const c = classForKey(ev.key, keys);
      if (c !== null && c < classNames.length) {
        ev.preventDefault();
        ev.stopPropagation();
        sel.value = String(c);
      }
    });
    grid.append(tile);
  }
  if (!grid.childElementCount) grid.append(el('p', {}, 'Nothing left to ask about.'));
}

export function wireBatch(get: () => OpenProject | null): void {
  $('batch-accept').addEventListener('click', () => {
    const s = get();
    if (!s) return;
    const pairs: [number, number][] = [];
    for (const t of Array.from($('batch-grid').querySelectorAll<HTMLElement>('.tile'))) {
      const v = t.querySelector('select')!.value;
      if (v !== '') pairs.push([Number(t.dataset.sampleId), Number(v)]);
    }
    void s.acceptBatch(pairs).then(() => renderBatch(s));
  });
  $('batch-refresh').addEventListener('click', () => {
    const s = get();
    if (s) renderBatch(s);
  });
}
