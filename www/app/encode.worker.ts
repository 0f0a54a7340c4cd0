// One worker of the encoder pool (encoder-pool.ts): its own wasm instance of the core and
// its own copy of the pretrained network, so the pool's workers encode side by side on
// every core. Images are independent; each call encodes one chunk and returns its rows.
import * as Comlink from 'comlink';
import { loadCore, needCore, type Core } from 'marginalia/engine';

type Encoder = InstanceType<Core['ImageEncoder']>;
let encoder: Encoder | null = null;

const api = {
  /** Reads the weight file; returns the encoder's version and width. Throws the core's reason. */
  async init(weights: Uint8Array, size: number): Promise<{ version: string; dim: number }> {
    await loadCore();
    encoder?.free();
    encoder = new (needCore().ImageEncoder)(weights, size);
    return { version: encoder.version, dim: encoder.dim };
  },

  /** n images (width × height × channels bytes each, concatenated) to n × dim features. */
  encode(pixels: Uint8Array, width: number, height: number, channels: number): Float32Array {
    if (!encoder) throw new Error('the encoder worker was not initialized');
    const out = encoder.encode(pixels, width, height, channels);
    return Comlink.transfer(out, [out.buffer as ArrayBuffer]);
  },
};

export type EncodeApi = typeof api;
Comlink.expose(api);
