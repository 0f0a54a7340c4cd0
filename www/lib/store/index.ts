/**
 * Persist a session in IndexedDB with one call: `openSessionStore`.
 * @module marginalia/store
 */
// `marginalia/store`: persist a learner's session in this browser's IndexedDB with one call.
//
// What is stored where: database `marginalia-sessions` (version 1), object store `sessions`,
// one record per session name: `{ bytes, savedAt, format }`, where `bytes` is exactly what
// `Learner.save()` returned (samples, labels, options, undo history). Nothing else.
//
// One holder per session: opening a session takes a Web Lock named after it, so a second
// learner (in this tab or another) gets `E_STORE_LOCKED` instead of silently overwriting
// the first one's labels.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { MarginaliaError } from '../errors.js';
import { lockExclusive } from '../lock.js';
import { restoreLearner, type Learner, type LearnerOptions } from '../index.js';

const DB_NAME = 'marginalia-sessions';
const DB_VERSION = 1;

interface SessionRecord {
  bytes: Uint8Array;
  savedAt: number;
  /** Snapshot format of `bytes`, for migrations. */
  format: 1;
}

interface SessionsSchema extends DBSchema {
  sessions: { key: string; value: SessionRecord };
}

/** A session in IndexedDB, held by this page until {@link SessionStore.close}. */
export interface SessionStore {
  /** The session's name. */
  readonly name: string;
  /** Save the learner's whole session (or bytes from `Learner.save()`), replacing the last save. */
  save(source: Learner | Uint8Array): Promise<void>;
  /** The saved bytes, or `undefined` when nothing was saved under this name. */
  load(): Promise<Uint8Array | undefined>;
  /** A learner restored from the last save, or `undefined` when there is none. */
  restore(options?: Pick<LearnerOptions, 'worker' | 'startTimeoutMs'>): Promise<Learner | undefined>;
  /** When the last save happened (ms since the epoch), or `undefined`. */
  savedAt(): Promise<number | undefined>;
  /** Delete the saved session. */
  clear(): Promise<void>;
  /** Release the database connection and the lock; resolves once another learner may open it. */
  close(): Promise<void>;
}

function storeError(what: string, e: unknown): MarginaliaError {
  return new MarginaliaError('E_STORE', `${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
}

/**
 * Open (or create) the session `name` and hold it. Rejects with `E_STORE_LOCKED` when another
 * learner holds it, `E_STORE` when IndexedDB cannot be opened.
 *
 * ```ts
 * const store = await openSessionStore('my-labels');
 * const learner = (await store.restore()) ?? (await createLearner({ features: 2, classes: 2 }));
 * await store.save(learner);
 * ```
 */
export async function openSessionStore(name = 'default'): Promise<SessionStore> {
  if (typeof name !== 'string' || name === '') throw new MarginaliaError('E_INVALID_PARAM', 'a session store needs a non-empty name');
  if (!('locks' in navigator)) throw new MarginaliaError('E_STORE', 'this browser has no Web Locks (navigator.locks), so a session cannot be held safely');
  // The one lock helper (../lock.ts), the app's too; a program is told at once rather
  // than left waiting in line as a person's tab is.
  let lock;
  try {
    lock = await lockExclusive(`marginalia-store:${name}`, { wait: false });
  } catch (e) {
    throw storeError('the session lock could not be taken', e);
  }
  if (!lock.held) throw new MarginaliaError('E_STORE_LOCKED', `session '${name}' is already open in another learner (this tab or another); close it first`);
  const release = () => lock.release();
  let db: IDBPDatabase<SessionsSchema>;
  try {
    db = await openDB<SessionsSchema>(DB_NAME, DB_VERSION, {
      // All migrations live here, one `if` per version.
      upgrade(database, oldVersion) {
        if (oldVersion < 1) database.createObjectStore('sessions');
      },
      blocked() {
        console.warn('marginalia/store: an older version of this page holds the database open; close other tabs to upgrade');
      },
    });
  } catch (e) {
    await release();
    throw storeError(`IndexedDB database '${DB_NAME}' could not be opened`, e);
  }
  let closed = false;
  const open = () => {
    if (closed) throw new MarginaliaError('E_DISPOSED', `session store '${name}' is closed`);
    return db;
  };
  const load = async () => {
    try {
      return (await open().get('sessions', name))?.bytes;
    } catch (e) {
      throw e instanceof MarginaliaError ? e : storeError(`reading session '${name}' failed`, e);
    }
  };
  return {
    name,
    async save(source) {
      const bytes = source instanceof Uint8Array ? source : await source.save();
      try {
        await open().put('sessions', { bytes, savedAt: Date.now(), format: 1 }, name);
      } catch (e) {
        throw e instanceof MarginaliaError ? e : storeError(`saving session '${name}' failed (nothing was written)`, e);
      }
    },
    load,
    async restore(options) {
      const bytes = await load();
      return bytes ? restoreLearner(bytes, options) : undefined;
    },
    async savedAt() {
      return (await open().get('sessions', name))?.savedAt;
    },
    async clear() {
      await open().delete('sessions', name);
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
      await release();
    },
  };
}
