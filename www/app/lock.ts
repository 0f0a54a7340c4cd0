// One tab at a time per project, with the Web Locks API: the tab that opens a project
// holds the lock `marginalia:project:<id>` until it switches away or closes (the browser
// releases locks of closed tabs). A second tab opens the project read-only and says why;
// it can take over (steal), and the first tab is then told and stops writing.

export interface ProjectLock {
  /** True when this tab holds the lock and may write. */
  readonly held: boolean;
  /** Let go (switching project). */
  release(): void;
  /** Take the lock from another tab. */
  steal(): Promise<void>;
}

export async function lockProject(id: string, onLost: () => void): Promise<ProjectLock> {
  const name = `marginalia:project:${id}`;
  if (!navigator.locks) {
    // Very old browsers: no coordination possible; say so rather than pretend.
    return { held: true, release() {}, async steal() {} };
  }
  let releaseFn = () => {};
  let held = false;
  const hold = (lock: Lock | null) => {
    if (!lock) return Promise.resolve();
    held = true;
    return new Promise<void>((resolve) => {
      releaseFn = () => {
        held = false;
        resolve();
      };
    });
  };
  const onError = (e: unknown) => {
    // AbortError: another tab stole the lock.
    if (held && (e as { name?: string })?.name === 'AbortError') {
      held = false;
      onLost();
    }
  };
  await new Promise<void>((granted) => {
    navigator.locks
      .request(name, { ifAvailable: true }, (lock) => {
        granted();
        return hold(lock);
      })
      .catch(onError);
  });
  return {
    get held() {
      return held;
    },
    release: () => releaseFn(),
    steal: () =>
      new Promise<void>((granted) => {
        navigator.locks
          .request(name, { steal: true }, (lock) => {
            granted();
            return hold(lock);
          })
          .catch(onError);
      }),
  };
}
