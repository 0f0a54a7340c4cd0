// One open project: its pool in memory, its labels, the learner's queue, and the
// labelling actions (label, skip, undo, relabel, add a class, accept a batch).
//
// The rule that keeps labels safe: every action commits to IndexedDB first and changes
// what is on screen only after the commit completed; the learner is told afterwards and
// retrains in the background (in its worker), so the person never waits on training.
import * as Comlink from 'comlink';
import { lockExclusive, type Candidate, type ExclusiveLock } from 'marginalia/engine';
import type { EngineApi, Evaluation, RoundResult, Scoring } from './engine.worker';
import { imageFeaturesProblem } from './coates';
import { featureRows, featureWidth, labelProblem, pixelBytes, poolFeatures, sampleProblem, usesStoredFeatures } from './pool';
import { mustRefitNow, nextPace, picksToQueue, refitPause } from './pacing';
import { DEFAULT_SETTINGS, estimateDue, mergeHistory, queueLength, settingsProblem, type LearnerSettings } from './settings';
import {
  commitLabel, commitLabels, getProject, patchProject, projectFeatures, projectLabels, projectSamples, removeLabel, saveCurrent,
  type Db, type LabelRecord, type ProjectRecord, type SampleRecord,
} from './store/db';

export const QUEUE = 24;
/** What a tab that only shows a project says when asked to change it. */
export const READ_ONLY_MESSAGE = 'This project is open in another tab, so this tab only shows it. Use “Label here instead” to move it to this tab.';
const LEARNER_SEED = 1;
const HISTORY = 20;
/**
 * Quiet time before the chart's history is written, and before a background accuracy
 * estimate starts: both wait for the person to pause, so neither an IndexedDB write on
 * the project record (which the next label's commit would queue behind) nor k model fits
 * in the worker land in the middle of labelling.
 */
const QUIET_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stored label as the page holds it: `imported` when it came with the data. */
export interface LabelEntry {
  label: number;
  labelledAt: number;
  imported?: true;
}

/** A stored label record as the page holds it (the record was checked: labelProblem). */
function labelEntry(r: LabelRecord): LabelEntry {
  return { label: r.label, labelledAt: r.labelledAt, ...(r.imported === true ? { imported: true as const } : {}) };
}

export interface Decision {
  sampleId: number;
  kind: 'label' | 'skip';
  label?: number;
  at: number;
}

export interface OpenProjectHooks {
  /** What is on screen changed (sample, counts, queue). */
  changed(s: OpenProject): void;
  /** A problem to show; `quota` when storage is full (offer export). */
  problem(message: string, quota?: boolean): void;
  /** A passing word on what a key did (or why it did nothing): not a problem. */
  note(message: string): void;
  /**
   * `n` actions (label, skip, undo, relabel, …) of this session have been carried out or
   * refused, in the order they were asked for: what follows the labelling from outside
   * (the soak test) knows which of its key presses the page has dealt with.
   */
  handled?(s: OpenProject): void;
  /** Another tab took this project over. */
  lockLost(s: OpenProject): void;
  /** The other tab let go (closed or switched): this tab may write now. */
  lockGained(s: OpenProject): void;
}

export class OpenProject {
  pool: SampleRecord[] = []; // row r of the learner is pool[r]
  test: SampleRecord[] = [];
  rowOf = new Map<number, number>(); // sample id → pool row
  /** Embedding projects: each sample's vector (by sample id), for the label view to show. */
  features: Map<number, Float32Array> | null = null;
  labels = new Map<number, LabelEntry>();
  queue: Candidate[] = [];
  probabilities: Record<number, number[]> = {};
  /** Why each sample was asked, kept across rounds: the one on screen keeps its reason. */
  reasons = new Map<number, string>();
  current: number | null = null;
  accuracy: number | null = null;
  fitted = false;
  /** Where the last round scored the pool, and why on the CPU when it did (null before one). */
  scoring: Scoring | null = null;
  skipped = new Set<number>();
  skips: Decision[] = [];
  problems: string[] = [];
  /** The latest CV estimate, stop suggestion and model kind (the dashboard's). */
  evaluation: Evaluation | null = null;
  /** Set while the dashboard is on screen: every retrain is then followed by an estimate. */
  watching = false;
  /** Set while the label view is on screen: history writes then wait for a pause. */
  labelling = true;
  strategyNames: string[] = [];
  /** Actions carried out or refused so far (see OpenProjectHooks.handled). */
  handled = 0;
  private evaluating = false;
  private evaluateAgain = false;
  private refitting = false;
  /** A call to the worker that trains (refit, evaluate) is under way: for the latency measure. */
  workerBusy = false;
  /** How long the last retrain took, seen from here (paces the next one: pacing.ts). */
  private lastRoundMs = 0;
  /** The person's usual time between labels (pacing.ts), and when the last one came. */
  private paceMs: number | null = null;
  private lastLabelAt: number | null = null;
  private historyTimer: ReturnType<typeof setTimeout> | null = null;
  private dirty = false;
  private saving: Promise<unknown> = Promise.resolve();
  lock!: ExclusiveLock;
  closed = false;

  private constructor(
    readonly db: Db,
    readonly engine: Comlink.Remote<EngineApi>,
    public project: ProjectRecord,
    readonly hooks: OpenProjectHooks,
  ) {}

  get readOnly(): boolean {
    return !this.lock.held;
  }

  /** Values per sample the learner sees (pixel bytes for images with raw pixels). */
  get bytesPerSample(): number {
    return featureWidth(this.project);
  }

  /** Open a stored project: read, validate (bad records are reported, never deleted), teach. */
  static async open(db: Db, engine: Comlink.Remote<EngineApi>, id: string, hooks: OpenProjectHooks, lock?: ExclusiveLock): Promise<OpenProject> {
    const project = await getProject(db, id);
    if (!project) throw new Error(`project ${id} is not stored`);
    const s = new OpenProject(db, engine, project, hooks);
    // A reopen (after taking over from another tab) keeps the lock it already holds:
    // letting go and asking again would hand it to the tab waiting in line.
    s.lock = lock ?? (await lockExclusive(`marginalia:project:${id}`, { wait: true, onLost: () => hooks.lockLost(s), onGained: () => hooks.lockGained(s) }));
    const k = project.classNames.length;
    // Unusable stored image-feature settings are reported and left on disk; this session
    // learns from the pixels (which every image sample has) until the person switches.
    const featWhy = project.kind === 'image' ? imageFeaturesProblem(project.imageFeatures) : null;
    if (featWhy) {
      s.problems.push(`${featWhy}; using raw pixels`);
      s.project = { ...project, imageFeatures: null };
    }
    const valid: SampleRecord[] = [];
    // Text, table and embedding features, and convolutional image features, were computed
    // at import (or when the project switched to them) and stored in chunks.
    const features = usesStoredFeatures(s.project) ? featureRows(await projectFeatures(db, id), s.bytesPerSample) : null;
    if (features) s.problems.push(...features.problems);
    // Only an embedding is shown by its numbers; text and rows show their own content, so
    // the page drops their features once the worker has them.
    s.features = project.kind === 'embedding' ? (features?.rowOf ?? null) : null;
    for (const rec of await projectSamples(db, id)) {
      let why = sampleProblem(rec, project.kind === 'image' ? pixelBytes(project) : s.bytesPerSample, k, project.kind);
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
        s.labels.set(r.sampleId, labelEntry(r));
      }
    }
    if (s.pool.length === 0) throw new Error('this project has no usable samples, so there is nothing to label');
    const px = s.bytesPerSample;
    // Handed over, not copied: the matrix can be hundreds of MB and the page keeps none of it.
    const matrix = poolFeatures(s.project, s.pool, features?.rowOf);
    s.strategyNames = await engine.createPool(Comlink.transfer(matrix, [matrix.buffer]), s.pool.length, px, project.classNames, LEARNER_SEED);
    if (project.settings !== undefined) {
      const why = settingsProblem(project.settings, s.strategyNames);
      // Stored settings this version cannot use are reported and left as they are on disk;
      // the session runs on the defaults until the person chooses again.
      if (why) {
        s.problems.push(`learner settings: ${why}; using the defaults`);
        s.project = { ...s.project, settings: undefined };
      } else await engine.configure(project.settings);
    }
    await engine.setTest(poolFeatures(s.project, s.test, features?.rowOf), Uint32Array.from(s.test.map((r) => r.truth ?? 0)));
    await engine.teachMany([...s.labels].map(([sid, l]) => [s.rowOf.get(sid)!, l.label]));
    const resumed = project.current;
    const keep = typeof resumed === 'number' && s.rowOf.has(resumed) && !s.labels.has(resumed) ? resumed : null;
    s.applyRound(await engine.refit(s.queueLength, keep != null ? [s.rowOf.get(keep)!] : []));
    // The reason it was asked survives the reload, although this round may not pick it.
    if (keep != null && typeof project.currentReason === 'string' && !s.reasons.has(keep)) s.reasons.set(keep, project.currentReason);
    s.current = keep ?? s.nextFromQueue();
    return s;
  }

  /**
   * A tab that only shows this project (another tab labels it) follows what that tab
   * stored: its labels (the learner is told the difference and retrains), its classes and
   * the sample it shows. Called when the other tab announces a write (store/db.ts).
   */
  async follow(): Promise<void> {
    if (!this.readOnly || this.closed) return;
    const project = await getProject(this.db, this.project.id);
    const stored = (await projectLabels(this.db, this.project.id)) as LabelRecord[];
    if (!project || this.closed || !this.readOnly) return;
    if (project.classNames.length !== this.project.classNames.length) await this.engine.setClasses(project.classNames);
    const next = new Map<number, LabelEntry>();
    for (const r of stored) if (!labelProblem(r, this.rowOf, project.classNames.length)) next.set(r.sampleId, labelEntry(r));
    const taught: [number, number][] = [];
    for (const [id, l] of next) if (this.labels.get(id)?.label !== l.label) taught.push([this.rowOf.get(id)!, l.label]);
    const forgotten = [...this.labels.keys()].filter((id) => !next.has(id));
    this.labels = next;
    this.project = { ...this.project, name: project.name, classNames: project.classNames, settings: project.settings, current: project.current };
    if (typeof project.current === 'number' && this.rowOf.has(project.current)) {
      this.current = project.current;
      if (project.currentReason) this.reasons.set(project.current, project.currentReason);
    }
    this.hooks.changed(this);
    if (taught.length || forgotten.length) {
      for (const id of forgotten) void this.engine.forget(this.rowOf.get(id)!);
      this.teachInBackground(() => this.engine.teachMany(taught));
    }
  }

  /** The learner's settings in force (stored, or the defaults). */
  get settings(): LearnerSettings {
    return this.project.settings ?? DEFAULT_SETTINGS;
  }

  /** Picks a round queues: enough to last until the next round at the person's pace. */
  get queueLength(): number {
    return picksToQueue(queueLength(QUEUE, this.settings.batchSize), this.lastRoundMs, this.paceMs);
  }

  /**
   * Change the model, strategy or batch size: checked, applied to the learner (which
   * refuses names it does not know, changing nothing), stored, then retrained. If storing
   * fails the learner goes back to the settings on disk.
   */
  changeSettings(patch: Partial<LearnerSettings>): Promise<void | undefined> {
    return this.serial(async () => {
      if (this.refuse()) return;
      const old = this.settings;
      const next = { ...old, ...patch };
      const why = settingsProblem(next, this.strategyNames);
      if (why) throw new Error(`These settings cannot be used: ${why}.`);
      await this.engine.configure(next);
      try {
        await patchProject(this.db, this.project.id, { settings: next });
      } catch (e) {
        await this.engine.configure(old).catch(() => {});
        throw e;
      }
      this.project = { ...this.project, settings: next };
      // A new model or strategy makes the old estimate and queue stale.
      this.evaluation = null;
      this.hooks.changed(this);
      this.scheduleRefit();
    });
  }

  /**
   * A CV estimate and stop suggestion now (the dashboard was opened), after any pending
   * writes; also records the estimate in the chart's history.
   */
  async evaluate(): Promise<void> {
    if (this.closed) return;
    if (this.evaluating) {
      this.evaluateAgain = true; // the one under way may lack the stop suggestion
      return;
    }
    this.evaluating = true;
    try {
      this.workerBusy = true;
      // The stop suggestion predicts the whole unlabelled pool: only for the dashboard.
      const e = await this.engine.evaluate(5, this.watching).finally(() => (this.workerBusy = false));
      if (this.closed) return;
      this.evaluation = e;
      if (e.cv) this.record(e.labelled, { cv: { mean: e.cv.mean, se: e.cv.se } });
      this.hooks.changed(this);
    } catch (err) {
      this.hooks.problem(`The accuracy estimate failed: ${err instanceof Error ? err.message : String(err)}. Your labels are saved.`);
    } finally {
      this.evaluating = false;
      if (this.evaluateAgain) {
        this.evaluateAgain = false;
        if (this.watching) void this.evaluate();
      }
    }
  }

  /** The model file (docs/MODEL_FORMAT.md): bytes and what they hold. */
  exportModel(): Promise<{ bytes: Uint8Array; kind: string; width: number; classes: number }> {
    return this.engine.exportModel();
  }

  /** Merge a measurement into the chart's history; stored at the next pause (flushHistory). */
  private record(labels: number, patch: Parameters<typeof mergeHistory>[2]): void {
    const history = mergeHistory(this.project.history, labels, patch);
    this.project = { ...this.project, history };
    // Only labelling needs the write kept out of the way; elsewhere (an export may read
    // the record next) it goes now.
    if (this.labelling) this.storeHistorySoon();
    else this.flushHistory();
  }

  /** (Re)start the wait for a pause before writing the history; each label restarts it. */
  private storeHistorySoon(): void {
    if (this.historyTimer) clearTimeout(this.historyTimer);
    this.historyTimer = setTimeout(() => this.flushHistory(), QUIET_MS);
  }

  /** Write the chart's history now if a write is waiting (the person left the label view: a pause). */
  flushPendingHistory(): void {
    if (this.historyTimer) this.flushHistory();
  }

  private flushHistory(): void {
    if (this.historyTimer) clearTimeout(this.historyTimer);
    this.historyTimer = null;
    // The chart's history is a convenience (relaxed, no wait for the disk), and a failed
    // write is not worth interrupting for; at worst a point of the curve is missing.
    if (!this.readOnly && !this.closed) patchProject(this.db, this.project.id, { history: this.project.history }, 'relaxed').catch(() => {});
  }

  /** Queued picks not yet labelled, skipped or on screen. */
  private freshInQueue(): number {
    let n = 0;
    for (const q of this.queue) {
      const id = this.pool[q.index].id;
      if (!this.labels.has(id) && !this.skipped.has(id) && id !== this.current) n++;
    }
    return n;
  }

  close(keepLock = false): void {
    if (this.historyTimer) this.flushHistory();
    this.closed = true;
    if (!keepLock) void this.lock.release();
  }

  sample(id: number): SampleRecord {
    return this.pool[this.rowOf.get(id)!];
  }

  /** The model's class probabilities for a sample, when it has been queried. */
  probs(id: number): number[] | null {
    const p = this.probabilities[this.rowOf.get(id) ?? -1];
    return p && p.length ? p : null;
  }

  /** A sample in a few words: its file or line, else its number. */
  describeSample(id: number): string {
    return this.pool[this.rowOf.get(id) ?? -1]?.source ?? `sample ${id}`;
  }

  /** Why the learner asked for a sample (none for no sample). */
  reasonFor(id: number | null): string | null {
    return id == null ? null : (this.reasons.get(id) ?? null);
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
    // The queue ran dry (everything queued got decided before the next round came back):
    // an unlabelled sample drawn at random keeps the person going, said as such, and the
    // next round is asked for now. Random, not file order: file order is often sorted by
    // source or class, and would show a run of one kind.
    const left = this.pool.filter((r) => !this.labels.has(r.id) && !excluded(r.id) && !this.skipped.has(r.id));
    if (!left.length) return null;
    const pick = left[Math.floor(Math.random() * left.length)].id;
    this.reasons.set(pick, 'drawn at random: the model’s picks ran out before its next round (it is catching up)');
    if (!this.closed) queueMicrotask(() => this.scheduleRefit());
    return pick;
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

  /**
   * The last decisions, newest first: stored labels and this session's skips. Labels that
   * came with the data are not decisions made here (and would fill the list with an
   * import's hundreds), so they are left out, and undo never removes them.
   */
  decisions(): Decision[] {
    const labelled: Decision[] = [...this.labels].filter(([, l]) => !l.imported).map(([sampleId, l]) => ({ sampleId, kind: 'label', label: l.label, at: l.labelledAt }));
    return [...labelled, ...this.skips].sort((a, b) => b.at - a.at).slice(0, HISTORY);
  }

  private refuse(): boolean {
    if (this.closed) return true;
    if (this.readOnly) {
      this.hooks.problem(READ_ONLY_MESSAGE);
      return true;
    }
    return false;
  }

  private serial<T>(f: () => Promise<T>): Promise<T | undefined> {
    const p = this.saving.then(f, f);
    this.saving = p.catch(() => {});
    return p
      .catch((e) => {
        this.report(e);
        return undefined;
      })
      .finally(() => {
        this.handled++;
        this.hooks.handled?.(this);
      });
  }

  /**
   * A decision's time: the clock, but always after the previous decision of this session,
   * so that "the newest decision" (what undo takes back) is never a tie between two
   * decisions stored in the same millisecond.
   */
  private stamp(): number {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return this.lastStamp;
  }
  private lastStamp = 0;

  private report(e: unknown): void {
    const quota = (e as { quota?: boolean })?.quota === true;
    this.hooks.problem(`${e instanceof Error ? e.message : String(e)} Nothing was saved; what is on screen is unchanged.`, quota);
  }

  /**
   * A key pressed on sample `shown` acts only if that sample is still the one to decide:
   * keys pressed faster than the disk commits queue up, and by their turn the sample on
   * screen may have been decided already. Such a key does nothing (and says so), so no
   * label is ever given to a sample that was not on screen when its key was pressed.
   */
  private stale(shown: number | null | undefined): boolean {
    if (shown === undefined || shown === this.current) return false;
    this.hooks.note('A key did nothing: it was pressed on a sample that had already been decided.');
    return true;
  }

  /** Label the sample on screen (`shown`: the one the key was pressed on): stored first, then the next sample, then retrain. */
  label(classIndex: number, shown?: number | null): Promise<void | undefined> {
    return this.serial(async () => {
      if (this.refuse() || this.stale(shown)) return;
      const id = this.current;
      if (id == null) return;
      if (classIndex < 0 || classIndex >= this.project.classNames.length) return;
      const now = performance.now();
      if (this.lastLabelAt != null) this.paceMs = nextPace(this.paceMs, now - this.lastLabelAt);
      this.lastLabelAt = now;
      const next = this.nextFromQueue(id);
      const rec = { project: this.project.id, sampleId: id, label: classIndex, labelledAt: this.stamp() };
      const t0 = performance.now();
      await commitLabel(this.db, rec, next, this.reasonFor(next));
      // The share of the keypress → next sample time spent on disk (the latency bench reads it).
      performance.measure('label commit', { start: t0, end: performance.now() });
      this.labels.set(id, { label: classIndex, labelledAt: rec.labelledAt });
      this.skipped.delete(id);
      this.current = next;
      this.hooks.changed(this);
      this.teachInBackground(() => this.engine.teach(this.rowOf.get(id)!, classIndex));
      if (this.historyTimer) this.storeHistorySoon(); // still labelling: not yet
    });
  }

  /** Change an earlier label (from the decisions list). */
  relabel(sampleId: number, classIndex: number): Promise<void | undefined> {
    return this.serial(async () => {
      if (this.refuse()) return;
      const old = this.labels.get(sampleId);
      if (!old || old.label === classIndex) return;
      // The original time is kept: the decision stays where it was in the list.
      await commitLabel(this.db, { project: this.project.id, sampleId, label: classIndex, labelledAt: old.labelledAt }, this.current, this.reasonFor(this.current));
      this.labels.set(sampleId, { label: classIndex, labelledAt: old.labelledAt });
      this.hooks.changed(this);
      this.teachInBackground(() => this.engine.teach(this.rowOf.get(sampleId)!, classIndex));
    });
  }

  /** Skip the sample on screen; it comes back when the queue has nothing else. */
  skip(shown?: number | null): Promise<void | undefined> {
    return this.serial(async () => {
      if (this.refuse() || this.stale(shown)) return;
      const id = this.current;
      if (id == null) return;
      this.skipped.add(id);
      const next = this.nextFromQueue(id);
      await saveCurrent(this.db, this.project.id, next, this.reasonFor(next));
      this.skips.push({ sampleId: id, kind: 'skip', at: this.stamp() });
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
        await saveCurrent(this.db, this.project.id, last.sampleId, this.reasonFor(last.sampleId));
        this.skips = this.skips.filter((d) => d !== last);
        this.skipped.delete(last.sampleId);
      } else {
        await removeLabel(this.db, this.project.id, last.sampleId, last.sampleId, this.reasonFor(last.sampleId));
        this.labels.delete(last.sampleId);
        this.teachInBackground(() => this.engine.forget(this.rowOf.get(last.sampleId)!));
      }
      this.current = last.sampleId;
      this.hooks.changed(this);
      const what = last.kind === 'skip' ? 'the skip' : `the label “${this.project.classNames[last.label!] ?? last.label}”`;
      this.hooks.note(`Undone: ${what} of ${this.describeSample(last.sampleId)}, which is on screen again.`);
    });
  }

  /** Accept several labels at once (the batch view), in one transaction. */
  acceptBatch(pairs: [number, number][]): Promise<void | undefined> {
    return this.serial(async () => {
      if (this.refuse() || pairs.length === 0) return;
      const now = this.stamp();
      const done = new Set(pairs.map(([id]) => id));
      // The sample on screen stays unless the batch labelled it.
      const next = this.current != null && !done.has(this.current) ? this.current : this.nextFromQueue(done);
      const recs = pairs.map(([sampleId, label]) => ({ project: this.project.id, sampleId, label, labelledAt: now }));
      await commitLabels(this.db, recs, this.project.id, next, this.reasonFor(next));
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
    for (const q of r.queue) {
      const id = this.pool[q.index].id;
      // The sample on screen keeps the reason it was shown with (and stored with): a
      // newer round's words for it would change the screen under the person's eyes.
      if (id === this.current && this.reasons.has(id)) continue;
      this.reasons.set(id, q.reason);
    }
    this.probabilities = r.probabilities;
    this.accuracy = r.accuracy;
    this.fitted = r.fitted;
    this.scoring = r.scoring;
    // One held-out point per label count: the first measurement at that count stays (a
    // reopened or restored project refits from scratch and may differ in the last digit;
    // its stored history stays as it was).
    const h = this.project.history;
    const at = h.find((e) => e.labels === r.labelled);
    if (r.accuracy != null && (h.length === 0 || h[h.length - 1].labels !== r.labelled) && at?.accuracy == null) this.record(r.labelled, { accuracy: r.accuracy });
  }

  /** Labels at the newest CV point in the history, if any. */
  private lastEstimateAt(): number | null {
    const h = this.project.history;
    for (let i = h.length - 1; i >= 0; i--) if (h[i].cv) return h[i].labels;
    return null;
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
        // When the oldest change this loop has not yet trained on came.
        let waitingSince = performance.now();
        do {
          this.dirty = false;
          // Time the retrain to fit between two labels (pacing.ts): at once when a round
          // is shorter than the person's pace, else after a pause as long as a round
          // (the queue holds enough picks to go on with), and soon when the queue runs
          // low. A retrain that is running when a key comes competes with drawing the
          // next sample for the CPU on small machines.
          await sleep(refitPause(this.freshInQueue(), this.queue.length, this.lastRoundMs, this.paceMs));
          if (this.closed) return;
          // Another label came during the wait: wait again for a pause, unless the queue
          // runs low or the wait has been long (mustRefitNow: else a fast labeller starves
          // the learner and the picks stop being active).
          if (this.dirty && !mustRefitNow(this.freshInQueue(), this.queue.length, performance.now() - waitingSince)) continue;
          this.dirty = false;
          this.workerBusy = true;
          const t0 = performance.now();
          const r = await this.engine.refit(this.queueLength, this.current != null ? [this.rowOf.get(this.current)!] : []).finally(() => (this.workerBusy = false));
          this.lastRoundMs = performance.now() - t0;
          waitingSince = t0; // labels that came during the round are not in it
          // A label being committed right now is showing its next sample: let it, then
          // take the new round (its render would otherwise come before that paint).
          await this.saving;
          if (this.closed) return;
          this.applyRound(r);
          if (this.current == null || this.labels.has(this.current)) this.current = this.nextFromQueue();
          this.hooks.changed(this);
          // The chart's CV curve: with the dashboard open after every retrain; otherwise at
          // growing spacing (estimateDue) and only once the person pauses.
          if (!this.dirty && !this.watching && estimateDue(r.labelled, this.lastEstimateAt())) {
            await sleep(QUIET_MS);
            if (this.dirty || this.closed) continue;
            await this.evaluate();
          } else if (!this.dirty && this.watching) await this.evaluate();
        } while (this.dirty);
      } catch (e) {
        this.hooks.problem(`Retraining failed: ${e instanceof Error ? e.message : String(e)}. Your labels are saved.`);
      } finally {
        this.refitting = false;
      }
    })();
  }
}
