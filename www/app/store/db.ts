// The only module that touches IndexedDB (through `idb`).
//
// What is stored where (database "marginalia", schema version 1):
// - `meta`    key → value. "dataset": {name, classNames, width, height, count};
//             "current": the sample id on screen, so a reload resumes on it.
// - `samples` keyPath "id": {id, pixels: Uint8Array, truth, split}. `truth` is the
//             dataset's own label, used only for the fixed held-out split (`split`,
//             'pool' or 'test', fixed at import); the UI never shows it.
// - `labels`  keyPath "sampleId": {sampleId, label, labelledAt}. One per labelled sample.
//
// Every label write waits for its transaction to *complete* (strict durability) before
// resolving, so the UI moves on only after the label is on disk.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { LabelRecord, SampleRecord } from '../pool';

export const DB_NAME = 'marginalia';
export const DB_VERSION = 1;

export interface DatasetMeta {
  name: string;
  classNames: string[];
  width: number;
  height: number;
  count: number;
}

interface Schema extends DBSchema {
  meta: { key: string; value: unknown };
  samples: { key: number; value: SampleRecord };
  labels: { key: number; value: LabelRecord };
}

export type Db = IDBPDatabase<Schema>;

/** A storage failure with the operation that failed, for the message shown to a person. */
export class StoreError extends Error {
  constructor(
    public readonly operation: string,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`Saving to this browser's storage failed (${operation}): ${detail}`);
    this.name = 'StoreError';
  }
}

/** Open (and, on first use or upgrade, migrate) the database. */
export async function openStore(): Promise<Db> {
  return openDB<Schema>(DB_NAME, DB_VERSION, {
    // All migrations live here, keyed by the version being upgraded from.
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore('meta');
        db.createObjectStore('samples', { keyPath: 'id' });
        db.createObjectStore('labels', { keyPath: 'sampleId' });
      }
    },
    blocking() {
      // Another tab wants a newer schema: let it proceed (this tab reloads on next use).
    },
  });
}

export async function getMeta<T>(db: Db, key: string): Promise<T | undefined> {
  return (await db.get('meta', key)) as T | undefined;
}

export async function setMeta(db: Db, key: string, value: unknown): Promise<void> {
  try {
    const tx = db.transaction('meta', 'readwrite', { durability: 'strict' });
    await tx.store.put(value, key);
    await tx.done;
  } catch (e) {
    throw new StoreError(`write ${key}`, e);
  }
}

/** Store a dataset and its samples in one transaction: all or nothing. */
export async function putDataset(db: Db, meta: DatasetMeta, samples: SampleRecord[]): Promise<void> {
  try {
    const tx = db.transaction(['meta', 'samples'], 'readwrite', { durability: 'strict' });
    const store = tx.objectStore('samples');
    for (const s of samples) void store.put(s);
    void tx.objectStore('meta').put(meta, 'dataset');
    await tx.done;
  } catch (e) {
    throw new StoreError('store the dataset', e);
  }
}

/** All sample records, raw: validation is the caller's job (records may be corrupt). */
export async function allSamples(db: Db): Promise<unknown[]> {
  return db.getAll('samples');
}

/** All label records, raw. */
export async function allLabels(db: Db): Promise<unknown[]> {
  return db.getAll('labels');
}

/**
 * Commit one label and the sample to show next, in one transaction, so a reload resumes
 * exactly where the person was. Resolves only once the transaction has completed.
 */
export async function commitLabel(db: Db, rec: LabelRecord, nextCurrent: number | null): Promise<void> {
  try {
    const tx = db.transaction(['labels', 'meta'], 'readwrite', { durability: 'strict' });
    void tx.objectStore('labels').put(rec);
    void tx.objectStore('meta').put(nextCurrent, 'current');
    await tx.done;
  } catch (e) {
    throw new StoreError(`save the label of sample ${rec.sampleId}`, e);
  }
}
