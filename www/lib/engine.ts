// `marginalia/engine`: the building blocks the package's own worker is made of, for an app
// that runs the learner in a worker of its own. The Marginalia app does: its engine worker
// adds a held-out set, the dashboard's estimate and the model export around the same
// learner session, and its import workers decode images and load the core the same way.
// Less settled than the main entry (`marginalia`): it follows what the worker needs.
export * from './session.js';
export { decodeImage, bytesToFeatures, MIN_SIDE, type DecodableImage } from './image.js';
export type { Candidate, ImageSettings, WorkerSettings } from './protocol.js';
export { lockExclusive, type ExclusiveLock, type LockOptions } from './lock.js';
