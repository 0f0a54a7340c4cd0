// Pretrained image features and sentence embeddings for the app, through the package's encoder pool
// (`marginalia/encoder`): what only the app adds is where the weights come from (its own
// origin, never on the first page load) and the service worker's cache that keeps them
// for offline use (www/sw.ts), from which a damaged copy is dropped.
import { MarginaliaError } from 'marginalia';
import { embedTexts, encodePixels, type EncodedImages, type EncodedTexts, type EncodeProgress } from 'marginalia/encoder';

export { ENCODER_SIZE, TEXT_WEIGHTS_SHA256, WEIGHTS_SHA256, type EncodeProgress } from 'marginalia/encoder';

export const WEIGHTS_URL = './weights/efficientnet-lite0.f16.safetensors';
export const TEXT_WEIGHTS_URL = './weights/minilm-l6.i8.safetensors';
/** The cache the service worker keeps the weights in, across app updates (www/sw.ts). */
export const WEIGHTS_CACHE = 'marginalia-weights';

/**
 * Where to encode: `?encoder=cpu` or `?encoder=webgpu` in the page's address forces one (for
 * comparing them, and for testing the GPU path on a software adapter); otherwise 'auto':
 * the GPU when the adapter is a hardware one, else the CPU pool.
 */
export function encoderBackend(search: string = typeof location === 'undefined' ? '' : location.search): 'auto' | 'webgpu' | 'cpu' {
  const v = new URLSearchParams(search).get('encoder');
  return v === 'cpu' || v === 'webgpu' ? v : 'auto';
}

/**
 * Encode `images` (n × width × height × channels bytes) at `size` px: on the GPU when the
 * adapter is a hardware one, else on a pool of workers, one per core. Aborting `signal`
 * stops every worker.
 */
export async function encodeImages(
  images: Uint8Array,
  shape: { n: number; width: number; height: number; channels: 1 | 3 },
  size: number,
  progress: EncodeProgress,
  signal?: AbortSignal,
): Promise<EncodedImages> {
  try {
    return await encodePixels(images, shape, {
      weightsUrl: WEIGHTS_URL,
      size,
      backend: encoderBackend(),
      onProgress: progress,
      signal,
      // The package's worker by its TypeScript source, as the playground starts the
      // learner's: Vite's dev server would not map the package's worker.js to it.
      worker: () => new Worker(new URL('../lib/encoder-worker.ts', import.meta.url), { type: 'module' }),
    });
  } catch (e) {
    await dropDamaged(e, WEIGHTS_URL);
    throw e;
  }
}

/** A damaged download: drop it from the cache, so the next try fetches it again. */
async function dropDamaged(e: unknown, url: string): Promise<void> {
  if (e instanceof MarginaliaError && e.code === 'E_FORMAT' && /weight file/.test(e.message))
    await caches?.open(WEIGHTS_CACHE).then((c) => c.delete(url)).catch(() => undefined);
}

/** Sentence embeddings of `texts` on a pool of workers, one per core. */
export async function encodeTexts(texts: string[], progress: EncodeProgress, signal?: AbortSignal): Promise<EncodedTexts> {
  try {
    return await embedTexts(texts, {
      weightsUrl: TEXT_WEIGHTS_URL,
      onProgress: progress,
      signal,
      worker: () => new Worker(new URL('../lib/encoder-worker.ts', import.meta.url), { type: 'module' }),
    });
  } catch (e) {
    await dropDamaged(e, TEXT_WEIGHTS_URL);
    throw e;
  }
}
