// Image decoding off the main thread, to the project's fixed size, as grey or RGB bytes
// (the features). The decoding itself is the npm package's (www/lib/image.ts), so an image
// imported here and one added through the package's `addImages` become the same pixels.
import * as Comlink from 'comlink';
import { decodeImage } from 'marginalia/engine';

export type Decoded = { pixels: Uint8Array } | { error: string };

async function decodeOne(blob: Blob, size: number, channels: 1 | 3): Promise<Decoded> {
  try {
    return { pixels: await decodeImage(blob, size, channels) };
  } catch (e) {
    return { error: (e as Error).message };
  }
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
