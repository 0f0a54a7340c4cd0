// One open project: its pool in memory, its labels, the learner's queue, and the
// labelling actions (label, skip, undo, relabel, add a class, accept a batch).
//
// The rule that keeps labels safe: every action commits to IndexedDB first and changes
// what is on screen only after the commit completed; the learner is told afterwards and
// retrains in the background (in its worker), so the person never waits on training.
import * as Comlink from 'comlink';
import type { EngineApi, Pick, RoundResult } from './engine.worker';
import { lockProject, type ProjectLock } from './lock';
import { featureRows, featureWidth, labelProblem, poolFeatures, sampleProblem } from './pool';
import {
  commitLabel, commitLabels, getProject, patchProject, projectFeatures, projectLabels, projectSamples, removeLabel, saveCurrent,
  type Db, type LabelRecord, type ProjectRecord, type SampleRecord,
} from './store/db';

export const QUEUE = 24;
const LEARNER_SEED = 1;
const HISTORY = 20;
/** Quiet time after a label before retraining starts (see scheduleRefit). */
const REFIT_PAUSE_MS = 150;

export interface Decision {
  sampleId: number;
  kind: 'label' | 'skip';
  label?: number;
  at: number;
}

export interface SessionHooks {
  /** What is on screen changed (sample, counts, queue). */
  changed(s: Session): void;
  /** A problem to show; `quota` when storage is full (offer export). */
  problem(message: string, quota?: boolean): void;
  /** Another tab took this project over. */
  lockLost(s: Session): void;
  /** The other tab let go (closed or switched): this tab may write now. */
  lockGained(s: Session): void;
}

export class Session {
  pool: SampleRecord[] = []; // row r of the learner is pool[r]
  test: SampleRecord[] = [];
  rowOf = new Map<number, number>(); // sample id → pool row
  /** Embedding projects: each sample's vector (by sample id), for the label view to show. */
  features: Map<number, Float32Array> | null = null;
  labels = new Map<number, { label: number; labelledAt: number }>();
  queue: Pick[] = [];
  probabilities: Record<number, number[]> = {};
  /** Why each sample was asked, kept across rounds: the one on screen keeps its reason. */
  reasons = new Map<number, string>();
  current: number | null = null;
  accuracy: number | null = null;
  fitted = false;
  skipped = new Set<number>();
  skips: Decision[] = [];
  problems: string[] = [];
  private refitting = false;
  private dirty = false;
  private saving: Promise<unknown> = Promise.resolve();
  lock!: ProjectLock;
  closed = false;

  private constructor(
    readonly db: Db,
    readonly engine: Comlink.Remote<EngineApi>,
    public project: ProjectRecord,
    readonly hooks: SessionHooks,
  ) {}

  get readOnly(): boolean {
    return !this.lock.held;
  }

  /** Values per sample the learner sees (pixel bytes for images). */
  get bytesPerSample(): number {
    return featureWidth(this.project);
  }

  /** Open a stored project: read, validate (bad records are reported, never deleted), teach. */
  static async open(db: Db, engine: Comlink.Remote<EngineApi>, id: string, hooks: SessionHooks, lock?: ProjectLock): Promise<Session> {
    const project = await getProject(db, id);
    if (!project) throw new Error(`project ${id} is not stored`);
    const s = new Session(db, engine, project, hooks);
    // A reopen (after taking over from another tab) keeps the lock it already holds:
    // letting go and asking again would hand it to the tab waiting in line.
    s.lock = lock ?? (await lockProject(id, () => hooks.lockLost(s), () => hooks.lockGained(s)));
    const k = project.classNames.length;
    const valid: SampleRecord[] = [];
    // Text, table and embedding features were computed at import and stored in chunks.
    const features = project.kind === 'image' ? null : featureRows(await projectFeatures(db, id), s.bytesPerSample);
    if (features) s.problems.push(...features.problems);
    // Only an embedding is shown by its numbers; text and rows show their own content, so
    // the page drops their features once the worker has them.
    s.features = project.kind === 'embedding' ? (features?.rowOf ?? null) : null;
    for (const rec of await projectSamples(db, id)) {
      let why = sampleProblem(rec, s.bytesPerSample, k, project.kind);
      if (!why && features && !features.rowOf.has((rec as SampleRecord).id)) why = 'its features are not stored';
      if (why) s.problems.push(`sample ${String((rec as { id?: unknown })?.id)}: ${why}`);
      else valid.push(rec as SampleRecord);
    }
    valid.sort((a, b) => a.id - b.id);
    s.pool = valid.filter((r) => r.split === 'pool');
    s.test = valid.filter((r) => r.split === 'test');
    s.rowOf = new Map(s.pool.map((r, i) => [r.id, i]));
    const ids = new Set(s.rowOf.keys());
    for (const rec of await projectLabels(db, id)) {
      const why = labelProblem(rec, ids, project.classNames.length);
      if (why) s.problems.push(`label of sample ${String((rec as { sampleId?: unknown })?.sampleId)}: ${why}`);
      else {
        const r = rec as LabelRecord;
        s.labels.set(r.sampleId, { label: r.label, labelledAt: r.labelledAt });
      }
    }
    if (s.pool.length === 0) throw new Error('this project has no usable samples, so there is nothing to label');
    const px = s.bytesPerSample;
    // Handed over, not copied: the matrix can be hundreds of MB and the page keeps none of it.
    const matrix = poolFeatures(project, s.pool, features?.rowOf);
    await engine.createPool(Comlink.transfer(matrix, [matrix.buffer]), s.pool.length, px, project.classNames, LEARNER_SEED);
    await engine.setTest(poolFeatures(project, s.test, features?.rowOf), Uint32Array.from(s.test.map((r) => r.truth ?? 0)));
    await engine.teachMany([...s.labels].map(([sid, l]) => [s.rowOf.get(sid)!, l.label]));
    const resumed = project.current;
    const keep = typeof resumed === 'number' && s.rowOf.has(resumed) && !s.labels.has(resumed) ? resumed : null;
    s.applyRound(await engine.refit(QUEUE, keep != null ? [s.rowOf.get(keep)!] : []));
    s.current = keep ?? s.nextFromQueue();
    return s;
  }

  close(keepLock = false): void {
    this.closed = true;
    if (!keepLock) this.lock.release();
  }

  sample(id: number): SampleRecord {
    return this.pool[this.rowOf.get(id)!];
  }

  /** The model's class probabilities for a sample, when it has been queried. */
  probs(id: number): number[] | null {
    const p = this.probabilities[this.rowOf.get(id) ?? -1];
    return p && p.length ? p : null;
  }

  reasonFor(id: number): string | null {
    return this.reasons.get(id) ?? null;
  }

  /** The next unlabelled sample in the queue, not skipped (unless nothing else is left), not in `except`. */
  nextFromQueue(except: number | null | Set<number> = null): number | null {
    const excluded = (id: number) => (except instanceof Set ? except.has(id) : id === except);
    for (const pass of [0, 1]) {
      for (const q of this.queue) {
        const id = this.pool[q.index].id;
        if (this.labels.has(id) || excluded(id)) continue;
        if (pass === 0 && this.skipped.has(id)) continue;
        return id;
      }
    }
    // The queue ran dry (everything queued got labelled before the refit came back):
    // any unlabelled sample keeps the person going.
    for (const r of this.pool) if (!this.labels.has(r.id) && !excluded(r.id) && !this.skipped.has(r.id)) return r.id;
    return null;
  }

  /** The next `n` queued, unlabelled samples (the batch view). */
  batch(n: number): number[] {
    const out: number[] = [];
    for (const q of this.queue) {
      const id = this.pool[q.index].id;
      if (!this.labels.has(id)) out.push(id);
      if (out.length === n) break;
    }
    return out;
  }

  /** The last decisions, newest first: stored labels and this session's skips. */
  decisions(): Decision[] {
    const labelled: Decision[] = [...this.labels].map(([sampleId, l]) => ({ sampleId, kind: 'label', label: l.label, at: l.labelledAt }));
    return [...labelled, ...this.skips].sort((a, b) => b.at - a.at).slice(0, HISTORY);
  }

  private refuse(): boolean {
    if (this.closed) return true;
    if (this.readOnly) {
      this.hooks.problem('This project is open in another tab, so this tab only shows it. Use “Label here instead” to move it to this tab.');
      return true;
    }
    return false;
  }

  private serial<T>(f: () => Promise<T>): Promise<T | undefined> {
    const p = this.saving.then(f, f);
    this.saving = p.catch(() => {});
    return p.catch((e) => {
      this.report(e);
      return undefined;
    });
  }

  private report(e: unknown): void {
    const quota = (e as { quota?: boolean })?.quota === true;
    this.hooks.problem(`${e instanceof Error ? e.message : String(e)} Nothing was saved; what is on screen is unchanged.`, quota);
  }

  /** Label the sample on screen: stored first, then the next sample, then retrain. */
  label(classIndex: number): Promise<void | undefined> {
    return this.serial(async () => {
      if (this.refuse()) return;
      const id = this.current;
      if (id == null) return;
      if (classIndex < 0 || classIndex >= this.project.classNames.length) return;
      const next = this.nextFromQueue(id);
      const rec = { project: this.project.id, sampleId: id, label: classIndex, labelledAt: Date.now() };
      const t0 = performance.now();
      await commitLabel(this.db, rec, next);
      // The share of the keypress → next sample time spent on disk (the latency bench reads it).
      performance.measure('label commit', { start: t0, end: performance.now() });
      this.labels.set(id, { label: classIndex, labelledAt: rec.labelledAt });
      this.skipped.delete(id);
      this.current = next;
      this.hooks.changed(this);
      this.teachInBackground(() => this.engine.teach(this.rowOf.get(id)!, classIndex));
    });
  }

  /** Change an earlier label (from the decisions list). */
  relabel(sampleId: number, classIndex: number): Promise<void | undefined> {
    return this.serial(async () => {
      if (this.refuse()) return;
      const old = this.labels.get(sampleId);
      if (!old || old.label === classIndex) return;
      // The original time is kept: the decision stays where it was in the list.
      await commitLabel(this.db, { project: this.project.id, sampleId, label: classIndex, labelledAt: old.labelledAt }, this.current);
      this.labels.set(sampleId, { label: classIndex, labelledAt: old.labelledAt });
      this.hooks.changed(this);
      this.teachInBackground(() => this.engine.teach(this.rowOf.get(sampleId)!, classIndex));
    });
  }

  /** Skip the sample on screen; it comes back when the queue has nothing else. */
  skip(): Promise<void | undefined> {
    return this.serial(async () => {
      if (this.refuse()) return;
      const id = this.current;
      if (id == null) return;
      this.skipped.add(id);
      const next = this.nextFromQueue(id);
      await saveCurrent(this.db, this.project.id, next);
      this.skips.push({ sampleId: id, kind: 'skip', at: Date.now() });
      this.current = next;
      this.hooks.changed(this);
    });
  }

  /** Undo the newest decision: a label is removed (stored first), a skip taken back. */
  undo(): Promise<void | undefined> {
    return this.serial(async () => {
      if (this.refuse()) return;
      const last = this.decisions()[0];
      if (!last) return;
      if (last.kind === 'skip') {
        await saveCurrent(this.db, this.project.id, last.sampleId);
        this.skips = this.skips.filter((d) => d !== last);
        this.skipped.delete(last.sampleId);
      } else {
        await removeLabel(this.db, this.project.id, last.sampleId, last.sampleId);
        this.labels.delete(last.sampleId);
        this.teachInBackground(() => this.engine.forget(this.rowOf.get(last.sampleId)!));
      }
      this.current = last.sampleId;
      this.hooks.changed(this);
    });
  }

  /** Accept several labels at once (the batch view), in one transaction. */
  acceptBatch(pairs: [number, number][]): Promise<void | undefined> {
    return this.serial(async () => {
      if (this.refuse() || pairs.length === 0) return;
      const now = Date.now();
      const done = new Set(pairs.map(([id]) => id));
      // The sample on screen stays unless the batch labelled it.
      const next = this.current != null && !done.has(this.current) ? this.current : this.nextFromQueue(done);
      const recs = pairs.map(([sampleId, label]) => ({ project: this.project.id, sampleId, label, labelledAt: now }));
      await commitLabels(this.db, recs, this.project.id, next);
      for (const r of recs) this.labels.set(r.sampleId, { label: r.label, labelledAt: r.labelledAt });
      this.current = next;
      this.hooks.changed(this);
      this.teachInBackground(() => this.engine.teachMany(pairs.map(([id, l]) => [this.rowOf.get(id)!, l])));
    });
  }

  /** Add a class while labelling: stored first, then the learner is rebuilt with it. */
  addClass(name: string): Promise<void | undefined> {
    return this.serial(async () => {
      if (this.refuse()) return;
      const n = name.trim();
      if (!n) throw new Error('A class needs a name.');
      if (this.project.classNames.includes(n)) throw new Error(`There is already a class called “${n}”.`);
      const classNames = [...this.project.classNames, n];
      await patchProject(this.db, this.project.id, { classNames });
      this.project = { ...this.project, classNames };
      await this.engine.setClasses(classNames);
      this.hooks.changed(this);
    });
  }

  async rename(name: string): Promise<void> {
    await patchProject(this.db, this.project.id, { name });
    this.project = { ...this.project, name };
    this.hooks.changed(this);
  }

  applyRound(r: RoundResult): void {
    this.queue = r.queue;
    for (const q of r.queue) this.reasons.set(this.pool[q.index].id, q.reason);
    this.probabilities = r.probabilities;
    this.accuracy = r.accuracy;
    this.fitted = r.fitted;
    const h = this.project.history;
    if (r.accuracy != null && (h.length === 0 || h[h.length - 1].labels !== r.labelled)) {
      const history = [...h.filter((e) => e.labels < r.labelled), { labels: r.labelled, accuracy: r.accuracy }];
      this.project = { ...this.project, history };
      // The chart's history is a convenience: a failed write is not worth interrupting for.
      if (!this.readOnly) patchProject(this.db, this.project.id, { history }, 'relaxed').catch(() => {});
    }
  }

  /**
   * Tell the learner without waiting for it: the worker may be busy retraining, and the
   * next keypress must not queue behind that. Comlink delivers calls in order, so the
   * learner still sees every change in the order it was stored; a retrain follows.
   */
  private teachInBackground(call: () => Promise<void>): void {
    call().then(
      () => this.scheduleRefit(),
      (e) => this.hooks.problem(`The learner could not take a change: ${e instanceof Error ? e.message : String(e)}. Your labels are saved; reload to retrain.`),
    );
  }

  scheduleRefit(): void {
    if (this.refitting) {
      this.dirty = true;
      return;
    }
    this.refitting = true;
    void (async () => {
      try {
        do {
          this.dirty = false;
          // While labels keep coming (a burst of keypresses), wait for a pause before
          // retraining: the queue holds enough picks to go on with, and a retrain started
          // mid-burst competes with drawing the next sample for the CPU on small machines.
          await new Promise((r) => setTimeout(r, REFIT_PAUSE_MS));
          if (this.dirty) continue;
          const r = await this.engine.refit(QUEUE, this.current != null ? [this.rowOf.get(this.current)!] : []);
          if (this.closed) return;
          this.applyRound(r);
          if (this.current == null || this.labels.has(this.current)) this.current = this.nextFromQueue();
          this.hooks.changed(this);
        } while (this.dirty);
      } catch (e) {
        this.hooks.problem(`Retraining failed: ${e instanceof Error ? e.message : String(e)}. Your labels are saved.`);
      } finally {
        this.refitting = false;
      }
    })();
  }
}
