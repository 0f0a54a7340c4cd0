// Image decoding shared by the package's worker and the app's import worker
// (www/app/decode.worker.ts), so an image becomes the same pixels in both: the browser's
// own decoders (PNG, JPEG, WebP, GIF, BMP) through createImageBitmap, resized to a square
// on an OffscreenCanvas, transparent pixels made white, then reduced to grey or RGB bytes.
// Pure apart from those two browser APIs, which exist in windows and workers alike.

/** Images with a side shorter than this are skipped: a 1×1 tracking pixel is not a picture. */
export const MIN_SIDE = 8;
class TooSmall extends Error {}

/** Anything createImageBitmap takes in a worker: a Blob (File), ImageBitmap, ImageData, OffscreenCanvas. */
export type DecodableImage = Blob | ImageBitmap | ImageData | OffscreenCanvas;

/**
 * Decode `source`, resize it to `size` × `size` and reduce it to `channels` bytes per pixel
 * (1: grey, ITU-R BT.601 luma; 3: RGB), row-major. Throws an `Error` saying why when the
 * browser cannot decode it.
 */
export async function decodeImage(source: DecodableImage, size: number, channels: 1 | 3): Promise<Uint8Array> {
  if (source instanceof Blob && source.size === 0) throw new Error('empty file (0 bytes)');
  let bmp: ImageBitmap;
  try {
    // At its own size first, to see what it is; then resized (from the decoded bitmap).
    const natural = await createImageBitmap(source);
    const { width, height } = natural;
    if (Math.min(width, height) < MIN_SIDE) {
      natural.close();
      throw new TooSmall(`${width}×${height} pixels: too small to show anything (images under ${MIN_SIDE}×${MIN_SIDE} pixels are skipped)`);
    }
    bmp = await createImageBitmap(natural, { resizeWidth: size, resizeHeight: size, resizeQuality: 'high' });
    natural.close();
  } catch (e) {
    if (e instanceof TooSmall) throw new Error(e.message);
    throw new Error('not a readable image: the browser could not decode it (a damaged file, or not really an image)');
  }
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2D canvas context in this browser');
  // Transparent pixels become white, as most viewers show them.
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, size, size);
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
  const rgba = ctx.getImageData(0, 0, size, size).data;
  const n = size * size;
  const out = new Uint8Array(n * channels);
  if (channels === 3) {
    for (let i = 0; i < n; i++) {
      out[i * 3] = rgba[i * 4];
      out[i * 3 + 1] = rgba[i * 4 + 1];
      out[i * 3 + 2] = rgba[i * 4 + 2];
    }
  } else {
    // ITU-R BT.601 luma, the usual grey conversion; grey images come through unchanged.
    for (let i = 0; i < n; i++) out[i] = Math.round(0.299 * rgba[i * 4] + 0.587 * rgba[i * 4 + 1] + 0.114 * rgba[i * 4 + 2]);
  }
  return out;
}

/** Bytes to features in [0, 1] (byte / 255), as the app's pool does (www/app/pool.ts). */
export function bytesToFeatures(bytes: Uint8Array, out: Float32Array = new Float32Array(bytes.length), offset = 0): Float32Array {
  for (let j = 0; j < bytes.length; j++) out[offset + j] = bytes[j] / 255;
  return out;
}
