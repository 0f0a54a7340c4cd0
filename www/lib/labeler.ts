/**
 * The `<marginalia-labeler>` custom element: `defineLabeler`, `MarginaliaLabeler`.
 * @module marginalia/labeler
 */
// `<marginalia-labeler>`: a drop-in labelling view for a `Learner`. It shows the sample the
// learner most wants labelled (through the app's `render` function), one button per class
// (keys 1–9 too) and Undo, teaches the learner, and fires a `label` event for each label.
//
// Importing this module defines nothing (the package has no side effects); call
// `defineLabeler()` once.
import { MarginaliaError } from './errors.js';
import type { Candidate, Learner } from './index.js';

/** `detail` of the `label` event. */
export interface LabelEventDetail {
  index: number;
  label: number;
  className: string;
}

const TEMPLATE = `
<style>
  :host { display: block; font: inherit; }
  .sample { min-height: 3em; padding: 0.5em; border: 1px solid #ccc; border-radius: 6px; margin-bottom: 0.5em; }
  .reason { color: #555; font-size: 0.9em; margin: 0.3em 0; }
  .classes { display: flex; flex-wrap: wrap; gap: 0.4em; }
  button { font: inherit; padding: 0.3em 0.7em; cursor: pointer; }
  .status { color: #555; font-size: 0.85em; margin-top: 0.4em; }
</style>
<div class="sample" part="sample"></div>
<p class="reason" part="reason"></p>
<div class="classes" part="classes"></div>
<button type="button" class="undo" part="undo">Undo</button>
<p class="status" part="status" role="status"></p>`;

/**
 * The labelling element. Attributes: `classes` (comma-separated names, required).
 * Properties: `learner` (set it to start), `render(index)` (what to show for a sample).
 * Events: `label` (`CustomEvent<LabelEventDetail>`, after the learner was taught), `error`
 * (`CustomEvent<MarginaliaError>`).
 */
export class MarginaliaLabeler extends HTMLElement {
  static observedAttributes = ['classes'];

  /** How a sample is shown; default: its pool index. */
  render: (index: number) => string | Node = (index) => `Sample #${index}`;

  #learner: Learner | null = null;
  #current: Candidate | null = null;
  #busy = false;
  #root: ShadowRoot;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    this.#root.innerHTML = TEMPLATE;
    this.#root.querySelector<HTMLButtonElement>('.undo')!.onclick = () => void this.undo();
    this.addEventListener('keydown', (ev) => {
      const k = Number(ev.key);
      if (Number.isInteger(k) && k >= 1 && k <= this.classes.length) void this.label(k - 1);
    });
    this.tabIndex = 0;
  }

  /** The class names from the `classes` attribute. */
  get classes(): string[] {
    return (this.getAttribute('classes') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  }

  get learner(): Learner | null {
    return this.#learner;
  }

  set learner(l: Learner | null) {
    this.#learner = l;
    void this.next();
  }

  /** The sample on screen, if any. */
  get current(): Candidate | null {
    return this.#current;
  }

  attributeChangedCallback(): void {
    const box = this.#root.querySelector('.classes')!;
    box.replaceChildren(
      ...this.classes.map((name, i) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.dataset.label = String(i);
        b.textContent = i < 9 ? `${i + 1} · ${name}` : name;
        b.onclick = () => void this.label(i);
        return b;
      }),
    );
  }

  #status(text: string): void {
    this.#root.querySelector('.status')!.textContent = text;
  }

  #fail(e: unknown): void {
    const err = e instanceof MarginaliaError ? e : new MarginaliaError('E_INTERNAL', e instanceof Error ? e.message : String(e));
    this.#status(`Error [${err.code}]: ${err.message}`);
    this.dispatchEvent(new CustomEvent('error', { detail: err, bubbles: true, composed: true }));
    if (!this.hasAttribute('quiet-errors')) console.error(err);
  }

  /** Show the next sample the learner asks about. */
  async next(): Promise<void> {
    const l = this.#learner;
    if (!l) return;
    try {
      const [c] = await l.query(1);
      this.#current = c ?? null;
      const view = this.#root.querySelector('.sample')!;
      const reason = this.#root.querySelector('.reason')!;
      if (!c) {
        view.replaceChildren('Everything is labelled.');
        reason.textContent = '';
      } else {
        const shown = this.render(c.index);
        view.replaceChildren(shown); // a string becomes text, never HTML
        reason.textContent = c.reason;
        this.dataset.index = String(c.index);
      }
      const s = await l.stats();
      this.#status(`${s.labelled} labelled of ${s.samples}`);
    } catch (e) {
      this.#fail(e);
    }
  }

  /** Label the sample on screen with class `label` (an index into `classes`). */
  async label(label: number): Promise<void> {
    const l = this.#learner, c = this.#current;
    if (!l || !c || this.#busy) return;
    if (label < 0 || label >= this.classes.length) {
      this.#fail(new MarginaliaError('E_LABEL_RANGE', `label ${label} is not one of the ${this.classes.length} classes`));
      return;
    }
    this.#busy = true;
    try {
      await l.teach(c.index, label);
      this.dispatchEvent(new CustomEvent<LabelEventDetail>('label', { detail: { index: c.index, label, className: this.classes[label] }, bubbles: true, composed: true }));
      await this.next();
    } catch (e) {
      this.#fail(e);
    } finally {
      this.#busy = false;
    }
  }

  /** Undo the last label and show the next sample again. */
  async undo(): Promise<void> {
    if (!this.#learner) return;
    try {
      await this.#learner.undo();
      await this.next();
    } catch (e) {
      this.#fail(e);
    }
  }
}

/** Define the custom element (once; later calls with the same tag do nothing). */
export function defineLabeler(tag = 'marginalia-labeler'): void {
  // A fresh subclass per tag: the registry accepts each constructor under one name only.
  if (!customElements.get(tag)) customElements.define(tag, class extends MarginaliaLabeler {});
}

declare global {
  interface HTMLElementTagNameMap {
    'marginalia-labeler': MarginaliaLabeler;
  }
}
