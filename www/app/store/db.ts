// The only module that touches IndexedDB (through `idb`).
//
// What is stored where (database "marginalia", schema version 3):
// - `meta`     key → value. "lastProject": the id of the project open last.
// - `projects` keyPath "id": ProjectRecord {id, name, kind ('image' | 'text' | 'table' |
//              'embedding'), classNames, width, height, channels, createdAt, current
//              (sample id on screen, so a reload resumes on it), history ([{labels,
//              accuracy, cv?}] for the dashboard chart), settings? (the learner's model,
//              strategy and batch size; absent: defaults)}. Kinds other than 'image' add
//              `columns` (a table's column names, in the order of `SampleRecord.row`),
//              `featurizer` (the fitted TF-IDF or table encoder's snapshot, bytes, so the
//              same columns can be computed again without refitting) and `sourceName`.
//              Image projects with convolutional features add `imageFeatures` (the Coates
//              & Ng settings) and `featurizer` (its fitted snapshot); their features are
//              in `features` like the other kinds', and their pixels stay in `samples`.
// - `samples`  keyPath ["project", "id"]: SampleRecord {project, id, truth (the
//              dataset's own label, used only for a fixed held-out split; null when there
//              is none), split ('pool' | 'test'), source (file path, or "file:line" for a
//              row, for exports), and what the kind needs: 'image': pixels (Uint8Array,
//              width × height × channels) and file (the original bytes, a Blob, for the
//              image zip; absent for the demo); 'text': text; 'table': row (the cells,
//              string or null)}.
// - `features` keyPath ["project", "start"]: FeatureChunk {project, start (the first
//              sample id), rows, width, data (Float32Array, rows × width, row-major)}:
//              the features of text, table and embedding samples (and of images in a
//              project with convolutional features), computed once at
//              import so a reload does not refit; row r of a chunk is sample start + r.
//              In chunks of up to 1,024 samples rather than one array per sample record:
//              IndexedDB clones each record on the page's main thread, and 30,000 small
//              arrays took ~6 s to write and ~4 s to read back, against ~0.1 s in chunks.
// - `labels`   keyPath ["project", "sampleId"]: LabelRecord {project, sampleId, label,
//              labelledAt}. One per labelled sample.
//
// Compound keys whose first part is the project id keep one project's records together:
// `projectRange(id)` selects them without an index.
//
// Schema history (all migrations live in `upgrade`, keyed by the version upgraded from):
// - v1 (foundation): one project only. `meta` held "dataset" {name, classNames, width,
//   height, count} and "current"; `samples` keyPath "id"; `labels` keyPath "sampleId".
// - v2: several projects. v1's data becomes the project "demo", exactly (labels, times,
//   the sample on screen).
// - v3: text, table and embedding projects; the `features` store. No record changes.
//
// Every write waits for its transaction to *complete* (strict durability) before resolving,
// so the UI moves on only after the data is on disk. A write that fails is aborted as a
// whole: no half-written record.
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';

export const DB_NAME = 'marginalia';
export const DB_VERSION = 3;
export const DEMO_PROJECT = 'demo';

export type Split = 'pool' | 'test';

export type ProjectKind = 'image' | 'text' | 'table' | 'embedding';

export interface ProjectRecord {
  id: string;
  name: string;
  kind: ProjectKind;
  classNames: string[];
  /** Images: pixels across. Other kinds: features per sample (in the `features` store). */
  width: number;
  /** Images: pixels down. Other kinds: 1. */
  height: number;
  /** 1 (grey) or 3 (RGB): bytes per pixel in `SampleRecord.pixels`. Other kinds: 1. */
  channels: 1 | 3;
  /** Tables: the column names of `SampleRecord.row`, in order. */
  columns?: string[];
  /** Text, tables, convolutional image features: the fitted featurizer's snapshot (wasm TextFeaturizer / TableFeaturizer / CoatesFeaturizer). */
  featurizer?: Uint8Array | null;
  /**
   * Images: the learner sees convolutional features (4 × centroids per image) or a
   * pretrained network's embeddings (stored in `features`) instead of pixels. Absent or
   * null: raw pixels. Added without a schema
   * change: projects stored before it read as pixel projects, as they were.
   */
  imageFeatures?: ImageFeatures | null;
  /**
   * Text: the stored features are the TF-IDF (`tfidfWidth` columns) followed by a sentence
   * encoder's embeddings (`dim` columns). Absent or null: TF-IDF alone, as every text
   * project stored before it.
   */
  textFeatures?: TextFeatures | null;
  /** The file the samples came from (text, tables, embeddings). */
  sourceName?: string;
  createdAt: number;
  current: number | null;
  /** Why the learner asked for `current` ("Why this one"), so a reload shows it again. */
  currentReason?: string | null;
  history: HistoryEntry[];
  /** Chosen on the dashboard; absent in projects made before settings existed (defaults). */
  settings?: LearnerSettings;
}

/** One point of the dashboard's chart: held-out accuracy and/or the CV estimate. */
export interface HistoryEntry {
  labels: number;
  accuracy: number | null;
  /** Cross-validated accuracy on the labelled samples (mean, standard error). */
  cv?: { mean: number; se: number };
}

/**
 * What an image project's learner sees instead of raw pixels (absent or null: pixels):
 * Coates features learned from the project's images, or a pretrained network's embeddings.
 */
export type ImageFeatures = CoatesImageFeatures | PretrainedImageFeatures;

/** TF-IDF and sentence embeddings side by side (www/app/ui/data-import.ts). */
export interface TextFeatures {
  kind: 'tfidf+pretrained';
  /** The encoder and its version, e.g. "all-minilm-l6-v2/1 i8 128tok". */
  encoder: string;
  /** Values per text from the encoder. */
  dim: number;
  /** TF-IDF columns before them. */
  tfidfWidth: number;
}

/** Embeddings of a pretrained network (www/app/encoder-pool.ts), stored in `features`. */
export interface PretrainedImageFeatures {
  kind: 'pretrained';
  /** The encoder and its version, e.g. "efficientnet-lite0/1 f16 224px": images added later must get the same. */
  encoder: string;
  /** The network's input side in pixels. */
  size: number;
  /** Values per image. */
  dim: number;
}

/** Coates & Ng features of an image project (www/app/coates.ts): how they were fitted. */
export interface CoatesImageFeatures {
  kind: 'coates';
  centroids: number;
  patch: number;
  patches: number;
  seed: number;
  /** Images the filters were learned from (the project's own, at most 2,000). */
  fittedOn: number;
}

/** The learner's settings (checked by settingsProblem in settings.ts). */
export interface LearnerSettings {
  model: 'softmax' | 'mlp' | 'committee';
  strategy: string;
  batchSize: number;
  /** Where the pool is scored (absent in projects from before the choice: 'auto'). */
  backend?: 'auto' | 'webgpu' | 'cpu';
}

export interface SampleRecord {
  project: string;
  id: number;
  /** Images only. */
  pixels?: Uint8Array;
  truth: number | null;
  split: Split;
  source: string | null;
  file?: Blob | null;
  /** Text: the sample as the person reads it. */
  text?: string;
  /** Tables: the row's cells, in `ProjectRecord.columns` order (null: missing). */
  row?: (string | null)[];
}

/** Features of samples `start .. start + rows` (text, table and embedding projects). */
export interface FeatureChunk {
  project: string;
  start: number;
  rows: number;
  width: number;
  data: Float32Array;
}

/** Samples per stored feature chunk. */
export const FEATURE_CHUNK = 1024;

/**
 * `data` (rows × width, row i = sample id first + i) as chunks to store. `first` > 0:
 * samples added to a project later, in chunks of their own after the existing ones.
 */
export function featureChunks(project: string, data: Float32Array, width: number, first = 0): FeatureChunk[] {
  const n = width ? data.length / width : 0;
  const out: FeatureChunk[] = [];
  for (let r = 0; r < n; r += FEATURE_CHUNK) {
    const rows = Math.min(FEATURE_CHUNK, n - r);
    // slice, not subarray: a stored view would carry its whole underlying buffer.
    out.push({ project, start: first + r, rows, width, data: data.slice(r * width, (r + rows) * width) });
  }
  return out;
}

export interface LabelRecord {
  project: string;
  sampleId: number;
  label: number;
  labelledAt: number;
  /** Set when the label came with the data (a label column, folder names), not from a key. */
  imported?: true;
}

interface Schema extends DBSchema {
  meta: { key: string; value: unknown };
  projects: { key: string; value: ProjectRecord };
  samples: { key: [string, number]; value: SampleRecord };
  labels: { key: [string, number]; value: LabelRecord };
  features: { key: [string, number]; value: FeatureChunk };
}

export type Db = IDBPDatabase<Schema>;

/** All keys of one project in `samples` or `labels`: [id, any number]. */
export function projectRange(project: string): IDBKeyRange {
  // Arrays compare element-wise and a longer array sorts after its prefix; an array sorts
  // after every number, so [id, []] is above every [id, n].
  return IDBKeyRange.bound([project], [project, []]);
}

/** A storage failure with the operation that failed, for the message shown to a person. */
export class StoreError extends Error {
  readonly quota: boolean;
  constructor(
    public readonly operation: string,
    cause: unknown,
  ) {
    const name = (cause as { name?: string })?.name;
    const quota = name === 'QuotaExceededError';
    const detail = cause instanceof Error || cause instanceof DOMException ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      quota
        ? `This browser's storage is full, so Marginalia could not ${operation}. Nothing was half-written. Export your labels or a backup (Project menu), then free space (delete a project or other sites' data) and try again.`
        : `Saving to this browser's storage failed (${operation}): ${detail}`,
    );
    this.name = 'StoreError';
    this.quota = quota;
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** v1 → v2: v1's single dataset becomes the project "demo", records copied exactly. */
async function migrateV1toV2(db: IDBPDatabase<any>, tx: IDBPTransaction<any, any, 'versionchange'>): Promise<void> {
  const meta = tx.objectStore('meta');
  const oldSamples = (await tx.objectStore('samples').getAll()) as any[];
  const oldLabels = (await tx.objectStore('labels').getAll()) as any[];
  const dataset = (await meta.get('dataset')) as
    | { name: string; classNames: string[]; width: number; height: number; count: number }
    | undefined;
  const current = (await meta.get('current')) as number | null | undefined;
  db.deleteObjectStore('samples');
  db.deleteObjectStore('labels');
  db.createObjectStore('projects', { keyPath: 'id' });
  const samples = db.createObjectStore('samples', { keyPath: ['project', 'id'] });
  const labels = db.createObjectStore('labels', { keyPath: ['project', 'sampleId'] });
  if (!dataset) return; // a v1 database that never stored the demo: nothing to carry over
  const project: ProjectRecord = {
    id: DEMO_PROJECT,
    name: dataset.name,
    kind: 'image',
    classNames: dataset.classNames,
    width: dataset.width,
    height: dataset.height,
    channels: 1,
    createdAt: Date.now(),
    current: typeof current === 'number' ? current : null,
    history: [],
  };
  void tx.objectStore('projects').put(project);
  // Records are copied as they are (a corrupt one stays corrupt, for the loader to report);
  // only the project key is added.
  for (const s of oldSamples) {
    if (s && typeof s === 'object' && Number.isInteger(s.id)) void samples.put({ source: null, ...s, project: DEMO_PROJECT });
  }
  for (const l of oldLabels) {
    if (l && typeof l === 'object' && Number.isInteger(l.sampleId)) void labels.put({ ...l, project: DEMO_PROJECT });
  }
  void meta.delete('dataset');
  void meta.delete('current');
  void meta.put(DEMO_PROJECT, 'lastProject');
}

/**
 * Open (and, on first use or upgrade, migrate) the database. `onBlocking` runs when another
 * tab needs a newer schema: this connection is closed so that tab can proceed.
 */
export async function openStore(onBlocking: () => void = () => {}): Promise<Db> {
  const db = await openDB<Schema>(DB_NAME, DB_VERSION, {
    // All migrations, keyed by the version being upgraded from. The whole upgrade is one
    // versionchange transaction: if any step fails it is aborted and the old data stays.
    upgrade(raw, oldVersion, _newVersion, tx) {
      const db = raw as unknown as IDBPDatabase<any>;
      const t = tx as unknown as IDBPTransaction<any, any, 'versionchange'>;
      if (oldVersion < 1) {
        db.createObjectStore('meta');
        db.createObjectStore('samples', { keyPath: 'id' });
        db.createObjectStore('labels', { keyPath: 'sampleId' });
      }
      if (oldVersion < 2) {
        migrateV1toV2(db, t).catch((e) => {
          console.error('migration v1 → v2 failed; the old data is kept', e);
          t.abort();
        });
      }
      // v2 → v3: a new store; image records are valid v3 records as they are.
      if (oldVersion < 3) db.createObjectStore('features', { keyPath: ['project', 'start'] });
    },
    blocking() {
      db.close();
      onBlocking();
    },
  });
  return db;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Run `fill` in one read-write transaction and wait for it to complete; abort on error. */
async function write<N extends 'meta' | 'projects' | 'samples' | 'labels' | 'features'>(
  db: Db,
  stores: N[],
  operation: string,
  fill: (tx: IDBPTransaction<Schema, N[], 'readwrite'>) => void | Promise<void>,
  durability: IDBTransactionDurability = 'strict',
): Promise<void> {
  let tx: IDBPTransaction<Schema, N[], 'readwrite'> | undefined;
  try {
    tx = db.transaction(stores, 'readwrite', { durability });
    // Request errors surface through tx.done; don't let them reject unobserved.
    await fill(tx);
    await tx.done;
  } catch (e) {
    try {
      tx?.abort(); // a synchronous throw (quota) must not let earlier puts commit
    } catch {
      /* already finished or aborted */
    }
    throw new StoreError(operation, e);
  }
}

export async function getMeta<T>(db: Db, key: string): Promise<T | undefined> {
  return (await db.get('meta', key)) as T | undefined;
}

export async function setMeta(db: Db, key: string, value: unknown): Promise<void> {
  await write(db, ['meta'], `remember ${key}`, (tx) => {
    void tx.objectStore('meta').put(value, key).catch(() => {});
  });
}

export async function listProjects(db: Db): Promise<ProjectRecord[]> {
  const all = await db.getAll('projects');
  return all.sort((a, b) => a.createdAt - b.createdAt);
}

export async function getProject(db: Db, id: string): Promise<ProjectRecord | undefined> {
  return db.get('projects', id);
}

export async function putProject(db: Db, p: ProjectRecord): Promise<void> {
  await write(db, ['projects'], `save project “${p.name}”`, (tx) => {
    void tx.objectStore('projects').put(p).catch(() => {});
  });
}

/** Store a project with its samples (and any labels and features) in one transaction: all or nothing. */
export async function putProjectData(
  db: Db,
  p: ProjectRecord,
  samples: SampleRecord[],
  labels: LabelRecord[] = [],
  features: FeatureChunk[] = [],
  /** Called with the samples written so far (100,000 take seconds: the import shows it). */
  progress?: (done: number, total: number) => void,
): Promise<void> {
  await write(db, ['projects', 'samples', 'labels', 'features'], `store project “${p.name}” (${samples.length} samples)`, async (tx) => {
    const ignore = () => {};
    void tx.objectStore('projects').put(p).catch(ignore);
    const s = tx.objectStore('samples');
    // put() clones its record on this thread before returning: 30,000 in one loop held
    // the page for seconds. Waiting for every 500th lets the page draw in between; the
    // transaction stays open, as the next puts are made from that request's success.
    let i = 0;
    for (const r of samples) {
      const req = s.put(r);
      if (++i % 500 === 0) {
        await req;
        progress?.(i, samples.length);
      } else void req.catch(ignore);
    }
    const l = tx.objectStore('labels');
    for (const r of labels) void l.put(r).catch(ignore);
    const f = tx.objectStore('features');
    for (const r of features) void f.put(r).catch(ignore);
  });
}

/**
 * Replace all of a project's features and change its record, in one transaction (an image
 * project switching between pixels and convolutional features): the old features stay
 * if anything fails. Labels and samples are not touched.
 */
export async function replaceFeatures(db: Db, project: string, patch: Partial<Omit<ProjectRecord, 'id'>>, chunks: FeatureChunk[]): Promise<void> {
  await write(db, ['projects', 'features'], `store the new features of project ${project}`, async (tx) => {
    const store = tx.objectStore('projects');
    const p = await store.get(project);
    if (!p) throw new Error(`project ${project} is not stored (deleted in another tab?)`);
    const f = tx.objectStore('features');
    await f.delete(projectRange(project));
    for (const c of chunks) void f.put(c).catch(() => {});
    // A field patched to undefined is removed, so a project switched back to pixels is
    // stored exactly as one that never had convolutional features (and backs up as one).
    const next: Record<string, unknown> = { ...p, ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k];
    await store.put(next as unknown as ProjectRecord);
  });
}

/**
 * Add samples (and their features) to an existing project, in one transaction: all or
 * nothing. Their ids must be new (the caller numbers them after the project's highest).
 */
export async function addSamples(db: Db, project: string, samples: SampleRecord[], features: FeatureChunk[] = []): Promise<void> {
  await write(db, ['projects', 'samples', 'features'], `add ${samples.length} samples to project ${project}`, async (tx) => {
    if (!(await tx.objectStore('projects').get(project))) throw new Error(`project ${project} is not stored (deleted in another tab?)`);
    const s = tx.objectStore('samples');
    let i = 0;
    for (const r of samples) {
      const req = s.add(r); // add, not put: an id already taken fails the whole write
      if (++i % 500 === 0) await req;
      else void req.catch(() => {});
    }
    const f = tx.objectStore('features');
    for (const c of features) void f.add(c).catch(() => {});
  });
}

/** Delete a project and everything in it, in one transaction. */
export async function deleteProject(db: Db, id: string): Promise<void> {
  await write(db, ['projects', 'samples', 'labels', 'features'], `delete project ${id}`, (tx) => {
    const ignore = () => {};
    void tx.objectStore('projects').delete(id).catch(ignore);
    void tx.objectStore('samples').delete(projectRange(id)).catch(ignore);
    void tx.objectStore('labels').delete(projectRange(id)).catch(ignore);
    void tx.objectStore('features').delete(projectRange(id)).catch(ignore);
  });
}

/** A project's sample records, raw: validation is the caller's job (records may be corrupt). */
export async function projectSamples(db: Db, project: string): Promise<unknown[]> {
  return db.getAll('samples', projectRange(project));
}

/** A project's feature chunks, raw (in sample order: the key sorts by start). */
export async function projectFeatures(db: Db, project: string): Promise<unknown[]> {
  return db.getAll('features', projectRange(project));
}

/** How many labels a project has stored. */
export async function countLabels(db: Db, project: string): Promise<number> {
  return db.count('labels', projectRange(project));
}

/** A project's label records, raw. */
export async function projectLabels(db: Db, project: string): Promise<unknown[]> {
  return db.getAll('labels', projectRange(project));
}

/**
 * Commit one label and the sample to show next, in one transaction, so a reload resumes
 * exactly where the person was. Resolves only once the transaction has completed.
 */
export async function commitLabel(db: Db, rec: LabelRecord, nextCurrent: number | null, reason: string | null = null): Promise<void> {
  await write(db, ['labels', 'projects'], `save the label of sample ${rec.sampleId}`, async (tx) => {
    void tx.objectStore('labels').put(rec).catch(() => {});
    await setCurrent(tx.objectStore('projects'), rec.project, nextCurrent, reason);
  });
  announce(rec.project);
}

/** Remove a label (undo) and put that sample back on screen, in one transaction. */
export async function removeLabel(db: Db, project: string, sampleId: number, nextCurrent: number | null, reason: string | null = null): Promise<void> {
  await write(db, ['labels', 'projects'], `undo the label of sample ${sampleId}`, async (tx) => {
    void tx.objectStore('labels').delete([project, sampleId]).catch(() => {});
    await setCurrent(tx.objectStore('projects'), project, nextCurrent, reason);
  });
  announce(project);
}

/** Several labels at once (the batch view), with the next sample, in one transaction. */
export async function commitLabels(db: Db, recs: LabelRecord[], project: string, nextCurrent: number | null, reason: string | null = null): Promise<void> {
  await write(db, ['labels', 'projects'], `save ${recs.length} labels`, async (tx) => {
    for (const r of recs) void tx.objectStore('labels').put(r).catch(() => {});
    await setCurrent(tx.objectStore('projects'), project, nextCurrent, reason);
  });
  announce(project);
}

/**
 * Change some fields of a project, read and written in one transaction (no lost update).
 * `relaxed` for what can be recomputed (the chart's history): no disk flush to wait for,
 * so it does not hold up the next label's commit.
 */
export async function patchProject(
  db: Db,
  project: string,
  patch: Partial<Omit<ProjectRecord, 'id'>>,
  durability: IDBTransactionDurability = 'strict',
): Promise<void> {
  await write(db, ['projects'], `update project ${project}`, async (tx) => {
    const store = tx.objectStore('projects');
    const p = await store.get(project);
    if (!p) throw new Error(`project ${project} is not stored (deleted in another tab?)`);
    await store.put({ ...p, ...patch });
  }, durability);
  if (durability === 'strict') announce(project);
}

/** Remember the sample on screen (after a skip). */
export async function saveCurrent(db: Db, project: string, current: number | null, reason: string | null = null): Promise<void> {
  await write(db, ['projects'], 'remember the sample on screen', async (tx) => {
    await setCurrent(tx.objectStore('projects'), project, current, reason);
  });
  announce(project);
}

async function setCurrent(
  store: { get(k: string): Promise<ProjectRecord | undefined>; put(v: ProjectRecord): Promise<unknown> },
  project: string,
  current: number | null,
  currentReason: string | null,
): Promise<void> {
  const p = await store.get(project);
  if (!p) throw new Error(`project ${project} is not stored (deleted in another tab?)`);
  await store.put({ ...p, current, currentReason });
}

/**
 * Other tabs of this browser are told which project a write changed (labels, the sample
 * on screen, settings), so a tab that only shows that project follows it instead of going
 * stale. Only the project id travels: each tab reads what changed from storage itself.
 */
const CHANNEL = 'marginalia:changes';
let channel: BroadcastChannel | null = null;
/** This tab's mark on its messages: channels of one tab hear each other. */
const TAB = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
function announce(project: string): void {
  if (typeof BroadcastChannel === 'undefined') return;
  channel ??= new BroadcastChannel(CHANNEL);
  channel.postMessage({ project, tab: TAB });
}

/** Call `f` with the project id whenever another tab of this browser changed that project. */
export function onOtherTabChange(f: (project: string) => void): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const listen = new BroadcastChannel(CHANNEL);
  listen.onmessage = (ev: MessageEvent<{ project?: unknown; tab?: unknown }>) => {
    if (typeof ev.data?.project === 'string' && ev.data.tab !== TAB) f(ev.data.project);
  };
}

/** Ask the browser to keep this site's data under storage pressure; report what it says. */
export async function storageStatus(ask: boolean): Promise<{ persisted: boolean | null; usage: number | null; quota: number | null }> {
  const s = navigator.storage;
  if (!s) return { persisted: null, usage: null, quota: null };
  let persisted: boolean | null = null;
  try {
    persisted = ask && s.persist ? await s.persist() : s.persisted ? await s.persisted() : null;
  } catch {
    persisted = null;
  }
  let usage: number | null = null;
  let quota: number | null = null;
  try {
    const e = await s.estimate();
    usage = e.usage ?? null;
    quota = e.quota ?? null;
  } catch {
    /* not available */
  }
  return { persisted, usage, quota };
}
