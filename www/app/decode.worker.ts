// Image decoding off the main thread: the browser's own decoders (PNG, JPEG, WebP, GIF,
// BMP) through createImageBitmap, resized to the project's fixed size on an
// OffscreenCanvas, then reduced to grey or RGB bytes (the features).
import * as Comlink from 'comlink';

export type Decoded = { pixels: Uint8Array } | { error: string };

async function decodeOne(blob: Blob, size: number, channels: 1 | 3): Promise<Decoded> {
  if (blob.size === 0) return { error: 'empty file (0 bytes)' };
  let bmp: ImageBitmap;
  try {
    bmp = await createImageBitmap(blob, { resizeWidth: size, resizeHeight: size, resizeQuality: 'high' });
  } catch (e) {
    return { error: `not a readable image (${(e as Error).name}: the browser could not decode it)` };
  }
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
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
  return { pixels: out };
}

const api = {
  async decode(blobs: Blob[], size: number, channels: 1 | 3): Promise<Decoded[]> {
    const out: Decoded[] = [];
    for (const b of blobs) out.push(await decodeOne(b, size, channels));
    return Comlink.transfer(out, out.flatMap((d) => ('pixels' in d ? [d.pixels.buffer as ArrayBuffer] : [])));
  },
};

export type DecodeApi = typeof api;
Comlink.expose(api);
