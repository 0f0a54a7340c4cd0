// Every failure the package reports is a `MarginaliaError`: a real `Error` (stack, message)
// with a stable `code` a program can branch on. Codes from the Rust core (E_SHAPE, ...)
// pass through unchanged; the package adds its own for what only it can detect.

/** Stable error codes. The `E_` codes of the Rust core pass through as they are. */
export type ErrorCode =
  // From the Rust core (src/error.rs).
  | 'E_SHAPE'
  | 'E_NONFINITE'
  | 'E_LABEL_RANGE'
  | 'E_UNKNOWN_SAMPLE'
  | 'E_DUPLICATE_SAMPLE'
  | 'E_EMPTY'
  | 'E_INVALID_PARAM'
  | 'E_PARSE'
  | 'E_FORMAT'
  | 'E_STATE'
  | 'E_GPU'
  // The package's own.
  /** The Web Worker could not be started, or the wasm could not be loaded in it. */
  | 'E_WORKER'
  /** The learner was disposed, or its worker died; create a new one. */
  | 'E_DISPOSED'
  /** An image could not be read: not an image the browser decodes, or its URL could not be fetched. */
  | 'E_IMAGE'
  /** The requested backend is not available in this browser or build. */
  | 'E_BACKEND_UNAVAILABLE'
  /** Another learner (this tab or another) holds the session store. */
  | 'E_STORE_LOCKED'
  /** IndexedDB failed (quota, private mode, blocked upgrade). */
  | 'E_STORE'
  /** Saved bytes that are not a Marginalia session (or from a newer version). */
  | 'E_SNAPSHOT'
  /** Anything else (a bug): the message says what. */
  | 'E_INTERNAL';

/** An `Error` with a stable {@link ErrorCode}. `name` is `'MarginaliaError'`. */
export class MarginaliaError extends Error {
  /** What went wrong, stable across versions; branch on this, not on `message`. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MarginaliaError';
    this.code = code;
  }
}

/** The plain-object form an error takes across `postMessage`. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

const CORE_CODE = /^E_[A-Z_]+$/;

/**
 * Convert anything thrown (a wasm-bindgen `Error` whose `name` is the core's code, a
 * `MarginaliaError`, a DOMException, a string) to the wire form, keeping the code.
 */
export function toWire(e: unknown): WireError {
  if (e instanceof MarginaliaError) return { code: e.code, message: e.message };
  if (e instanceof Error) {
    const code = CORE_CODE.test(e.name) ? (e.name as ErrorCode) : 'E_INTERNAL';
    return { code, message: code === 'E_INTERNAL' ? `${e.name}: ${e.message}` : e.message };
  }
  return { code: 'E_INTERNAL', message: String(e) };
}

/** Rebuild a `MarginaliaError` on the receiving side. */
export function fromWire(w: WireError): MarginaliaError {
  return new MarginaliaError(w.code, w.message);
}
