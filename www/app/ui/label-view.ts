// The labelling view: the sample large, the model's guess, confidence and reason beside
// it, class buttons with their keys, the class finder, a new-class form and the last
// decisions (editable).
import { classKeys, everyClassOnAKey, filterClasses } from '../keys';
import type { OpenProject } from '../open-project';
import { scoringText } from '../settings';
import { $, bestGuess, drawPixels, el } from './dom';
import { cardRows, vectorSummary } from './sample';

let noteTimer: ReturnType<typeof setTimeout> | null = null;
/** A passing word under the buttons on what a key did, or why it did nothing (cleared after a few seconds). */
export function showKeyNote(message: string): void {
  const n = $('key-note');
  n.textContent = message;
  if (noteTimer) clearTimeout(noteTimer);
  noteTimer = setTimeout(() => (n.textContent = ''), 5000);
}

export function renderLabel(s: OpenProject): void {
  $('label-count').textContent = String(s.labels.size);
  $('accuracy').textContent =
    s.accuracy == null ? (s.test.length ? '– (needs two classes labelled)' : '– (no held-out set)') : `${(s.accuracy * 100).toFixed(1)}%`;
  renderScoring(s);
  renderSample(s);
  renderButtons(s);
  // The decisions list (20 rows of menus) is not what the person waits for: build it after
  // the next sample is on screen, once per burst of changes.
  if (!decisionsPending) {
    decisionsPending = true;
    requestAnimationFrame(() =>
      setTimeout(() => {
        decisionsPending = false;
        renderDecisions(s);
      }, 0),
    );
  }
}
let decisionsPending = false;

/** Which backend scored the last round (and why the CPU), here and on the dashboard. */
export function renderScoring(s: OpenProject): void {
  const f = s.scoring;
  const attrs = {
    text: f ? scoringText(f) : '–',
    title: f?.detail ?? f?.adapter ?? '',
    backend: f?.backend ?? '',
    labelled: f ? String(f.labelled) : '',
  };
  // Every label re-renders the view: touch the DOM only when something changed, so the
  // next sample's frame carries no needless style work.
  const key = JSON.stringify(attrs);
  if (key === lastScoring) return;
  lastScoring = key;
  for (const id of ['scoring', 'set-scoring']) {
    const e = $(id);
    e.textContent = attrs.text;
    e.title = attrs.title;
    e.dataset.backend = attrs.backend;
    e.dataset.labelled = attrs.labelled;
  }
}
let lastScoring = '';

/** Nothing on screen: no sample, no source; the guess line says why. */
function clearSample(message: string): void {
  $('labeler').dataset.sampleId = '';
  $('sample').hidden = true;
  $('sample-text').hidden = true;
  $('sample-card').hidden = true;
  $('empty').hidden = false;
  $('empty').textContent = message;
  $('guess').textContent = '';
  $('reason').textContent = '';
  $('sample-source').textContent = '';
}

/**
 * While a project opens: the one being left is cleared from the view (sample, buttons,
 * decisions, counts), so nothing on screen belongs to a project that is not open.
 */
export function renderOpening(name: string | null): void {
  $('labeler').setAttribute('aria-busy', 'true');
  $('labeler').dataset.project = '';
  $('labeler').dataset.handled = '0';
  clearSample(name ? `Opening “${name}”…` : 'Opening the project…');
  $('classes').replaceChildren();
  shownClasses = '';
  $('decisions').replaceChildren();
  $('label-count').textContent = '–';
  $('accuracy').textContent = '–';
  $('project-title').textContent = '…'; // no project is open until it is
}

export function renderSample(s: OpenProject): void {
  const labeler = $('labeler');
  const { classNames, width, height, channels } = s.project;
  if (s.current == null) {
    clearSample(
      s.labels.size >= s.pool.length
        ? `Every sample of “${s.project.name}” is labelled (${s.labels.size.toLocaleString('en')}). Export the labels or the model under Projects and the dashboard, or add data.`
        : s.skipped.size > 0 && s.labels.size + s.skipped.size >= s.pool.length
          ? 'Every sample left was skipped; they come back once the model has chosen again.'
          : 'Choosing the next sample…',
    );
    labeler.dataset.project = s.project.id;
    return;
  }
  $('empty').hidden = true;
  const sm = s.sample(s.current);
  const kind = s.project.kind;
  $('sample').hidden = kind !== 'image';
  $('sample-text').hidden = kind !== 'text' && kind !== 'embedding';
  $('sample-card').hidden = kind !== 'table';
  if (kind === 'image') drawPixels($('sample') as HTMLCanvasElement, sm.pixels!, width, height, channels);
  else if (kind === 'text') $('sample-text').textContent = sm.text ?? '';
  else if (kind === 'embedding') $('sample-text').textContent = vectorSummary(s.features?.get(sm.id));
  else $('sample-card').querySelector('tbody')!.replaceChildren(...cardRows(s.project.columns ?? [], sm.row ?? []));
  labeler.dataset.sampleId = String(s.current);
  labeler.dataset.project = s.project.id;
  $('sample-source').textContent = sm.source ?? '';
  const g = bestGuess(s.probs(s.current));
  if (classNames.length === 0) $('guess').textContent = 'This project has no classes yet: press n to add one.';
  else if (g) $('guess').textContent = `Model's guess: ${classNames[g.index]} (${(g.confidence * 100).toFixed(0)}% sure)`;
  else $('guess').textContent = 'No guess yet: label a few samples of two classes.';
  const reason = s.reasonFor(s.current);
  $('reason').textContent = reason ? `Why this one: ${reason}` : '';
}

let shownClasses = '';
function renderButtons(s: OpenProject): void {
  const key = JSON.stringify(s.project.classNames) + s.readOnly;
  if (key === shownClasses) return;
  shownClasses = key;
  const box = $('classes');
  box.replaceChildren();
  const keys = classKeys(s.project.classNames);
  s.project.classNames.forEach((name, i) => {
    const k = keys[i];
    const b = el('button', { type: 'button', 'data-class': String(i) }, el('kbd', {}, k ?? ''), ' ', name);
    if (k) b.setAttribute('aria-keyshortcuts', k);
    b.addEventListener('click', () => void s.label(i));
    box.append(b);
  });
  $('class-find').hidden = everyClassOnAKey(s.project.classNames);
}

function renderDecisions(s: OpenProject): void {
  const list = $('decisions');
  list.replaceChildren();
  for (const d of s.decisions()) {
    const li = el('li', { 'data-sample-id': String(d.sampleId) });
    const sm = s.sample(d.sampleId);
    // A text is known by its words more than by its line number.
    const words = sm?.text != null ? ` “${sm.text.length > 60 ? `${sm.text.slice(0, 60)}…` : sm.text}”` : '';
    const src = `${s.describeSample(d.sampleId)}${words}`;
    if (d.kind === 'skip') {
      li.append(`${src}: skipped`);
    } else {
      const id = `relabel-${d.sampleId}`;
      const sel = el('select', { id });
      s.project.classNames.forEach((n, i) => {
        const o = el('option', { value: String(i) }, n);
        if (i === d.label) o.selected = true;
        sel.append(o);
      });
      sel.addEventListener('change', () => void s.relabel(d.sampleId, Number(sel.value)));
      li.append(el('label', { for: id }, `${src}: `), sel);
    }
    list.append(li);
  }
}

/** Open the class finder (`/`): type, Enter labels with the first match. */
export function openFinder(s: OpenProject): void {
  const box = $('class-find');
  const input = $('class-filter') as HTMLInputElement;
  box.hidden = false;
  input.value = '';
  input.focus();
  highlight(s, '');
}

function highlight(s: OpenProject, text: string): number[] {
  const hits = filterClasses(s.project.classNames, text);
  const set = new Set(hits);
  for (const b of Array.from($('classes').querySelectorAll('button'))) {
    b.hidden = !set.has(Number((b as HTMLElement).dataset.class));
  }
  return hits;
}

export function wireLabelView(get: () => OpenProject | null): void {
  const input = $('class-filter') as HTMLInputElement;
  input.addEventListener('input', () => {
    const s = get();
    if (s) highlight(s, input.value);
  });
  input.addEventListener('keydown', (ev) => {
    const s = get();
    if (!s) return;
    if (ev.key === 'Enter') {
      ev.preventDefault();
      const hits = highlight(s, input.value);
      if (hits.length) void s.label(hits[0]);
      input.value = '';
      highlight(s, '');
    } else if (ev.key === 'Escape') {
      input.value = '';
      highlight(s, '');
      input.blur();
      if (everyClassOnAKey(s.project.classNames)) $('class-find').hidden = true;
    }
  });
  const form = $('new-class') as HTMLFormElement;
  const name = $('new-class-name') as HTMLInputElement;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const s = get();
    if (!s) return;
    // Back to labelling at once (focus leaves the field, so keys label again); a refusal
    // (empty or duplicate name) comes back as an alert naming it.
    const value = name.value;
    name.value = '';
    name.blur();
    form.hidden = true;
    void s.addClass(value);
  });
  name.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      form.hidden = true;
      name.blur();
    }
  });
}

export function openNewClass(): void {
  $('new-class').hidden = false;
  ($('new-class-name') as HTMLInputElement).focus();
}
