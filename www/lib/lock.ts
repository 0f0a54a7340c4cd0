// One lock helper for both IndexedDB stores (docs/ARCHITECTURE.md says why there are two):
// the app's projects and the package's sessions. One policy, the Web Locks API's exclusive
// lock on a name, taken at once if it is free (`ifAvailable`); the holder keeps it until it
// lets go or its tab closes (the browser releases the locks of a closed tab). Whoever finds
// it taken decides what to do with that:
//
// - the app opens the project read-only, says why, and waits in line (`wait: true`): when
//   the other tab closes or switches, it takes over by itself (`onGained`); it can also take
//   over at once (`steal`), and the tab it took from is told (`onLost`) and waits in turn;
// - the package's session store refuses with E_STORE_LOCKED (`wait: false`): a program,
//   unlike a person, should not be left waiting without knowing.

/** An exclusive lock on a name, held or not. */
export interface ExclusiveLock {
  /** True while this holder has the lock. */
  readonly held: boolean;
  /** Let go (or stop waiting); resolves once another holder may take it. */
  release(): Promise<void>;
  /** Take the lock from its holder now. */
  steal(): Promise<void>;
}

export interface LockOptions {
  /** When not free: wait in line for it (true), or give up at once (false). */
  wait: boolean;
  /** Another holder stole it. */
  onLost?: () => void;
  /** Waiting in line, this holder got it. */
  onGained?: () => void;
}

export async function lockExclusive(name: string, { wait: waitInLine, onLost = () => {}, onGained = () => {} }: LockOptions): Promise<ExclusiveLock> {
  if (!navigator.locks) {
    // Very old browsers: no coordination possible.
    return { held: true, async release() {}, async steal() {} };
  }
  let held = false;
  let closed = false;
  let waiting = false;
  let releaseFn = () => {};
  // Waiting in line ends with a release: the request in the queue is withdrawn.
  const stopWaiting = new AbortController();
  // Settles once the browser has let go of our hold (a request's promise does).
  let holding: Promise<unknown> = Promise.resolve();
  const hold = (lock: Lock | null): Promise<void> | undefined => {
    if (!lock || closed) return undefined; // not granted, or no longer wanted: let go
    held = true;
    return new Promise<void>((resolve) => {
      releaseFn = () => {
        held = false;
        resolve();
      };
    });
  };
  const lost = (e: unknown) => {
    // AbortError: another holder stole the lock.
    if (held && (e as { name?: string })?.name === 'AbortError') {
      held = false;
      onLost();
      if (waitInLine) wait();
    }
  };
  const wait = () => {
    if (waiting || closed) return;
    waiting = true;
    holding = navigator.locks
      .request(name, { signal: stopWaiting.signal }, (lock) => {
        waiting = false;
        if (closed || held) return undefined; // we hold it already (stole it) or left
        const p = hold(lock);
        onGained();
        return p;
      })
      .catch(lost);
  };
  await new Promise<void>((granted, failed) => {
    let answered = false;
    holding = navigator.locks
      .request(name, { ifAvailable: true }, (lock) => {
        answered = true;
        granted();
        return hold(lock);
      })
      // The request itself failing (no secure context, say) is an answer too.
      .catch((e: unknown) => (answered ? lost(e) : failed(e)));
  });
  if (!held && waitInLine) wait();
  return {
    get held() {
      return held;
    },
    release: async () => {
      const had = held;
      closed = true;
      releaseFn();
      if (waiting) stopWaiting.abort();
      if (had) await holding;
    },
    steal: () =>
      new Promise<void>((granted) => {
        holding = navigator.locks
          .request(name, { steal: true }, (lock) => {
            granted();
            return hold(lock);
          })
          .catch(lost);
      }),
  };
}
