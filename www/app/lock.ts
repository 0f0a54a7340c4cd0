// One tab at a time per project, with the Web Locks API: the tab that opens a project
// holds the lock `marginalia:project:<id>` until it switches away or closes (the browser
// releases the locks of a closed tab). A second tab opens the project read-only, says why,
// and waits in line for the lock: when the first tab closes, it takes over by itself. It
// can also take over at once (steal); the first tab is then told, stops writing, and
// waits in line in turn.

export interface ProjectLock {
  /** True when this tab holds the lock and may write. */
  readonly held: boolean;
  /** Let go (switching project). */
  release(): void;
  /** Take the lock from another tab now. */
  steal(): Promise<void>;
}

export async function lockProject(id: string, onLost: () => void, onGained: () => void): Promise<ProjectLock> {
  const name = `marginalia:project:${id}`;
  if (!navigator.locks) {
    // Very old browsers: no coordination possible.
    return { held: true, release() {}, async steal() {} };
  }
  let held = false;
  let closed = false;
  let waiting = false;
  let releaseFn = () => {};
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
    // AbortError: another tab stole the lock.
    if (held && (e as { name?: string })?.name === 'AbortError') {
      held = false;
      onLost();
      wait();
    }
  };
  const wait = () => {
    if (waiting || closed) return;
    waiting = true;
    navigator.locks
      .request(name, (lock) => {
        waiting = false;
        if (closed || held) return undefined; // we hold it already (stole it) or left
        const p = hold(lock);
        onGained();
        return p;
      })
      .catch(lost);
  };
  await new Promise<void>((granted) => {
    navigator.locks
      .request(name, { ifAvailable: true }, (lock) => {
        granted();
        return hold(lock);
      })
      .catch(lost);
  });
  if (!held) wait();
  return {
    get held() {
      return held;
    },
    release: () => {
      closed = true;
      releaseFn();
    },
    steal: () =>
      new Promise<void>((granted) => {
        navigator.locks
          .request(name, { steal: true }, (lock) => {
            granted();
            return hold(lock);
          })
          .catch(lost);
      }),
  };
}
