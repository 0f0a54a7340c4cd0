// `marginalia/encoder-worker`: one worker of the image encoder pool (encoder.ts). Its own
// wasm instance of the core and its own copy of the pretrained network, so the pool's
// workers encode side by side on every core. A bundler that cannot follow
// `new URL('./encoder-worker.js', import.meta.url)` starts it from a file of its own that
// imports this module (EncoderOptions.worker).
import { loadCore, needCore, type Core } from './session.js';
import type { EncoderReply, EncoderRequest } from './encoder.js';

let encoder: InstanceType<Core['ImageEncoder']> | null = null;
const scope = self as unknown as { onmessage: ((ev: MessageEvent<EncoderRequest>) => void) | null; postMessage(m: EncoderReply, t?: Transferable[]): void };

scope.onmessage = async ({ data }) => {
  try {
    if (data.op === 'init') {
      await loadCore();
      encoder?.free();
      encoder = new (needCore().ImageEncoder)(data.weights, data.size);
      scope.postMessage({ ok: true, version: encoder.version, dim: encoder.dim });
    } else {
      if (!encoder) throw new Error('the encoder worker was not initialized');
      const out = encoder.encode(data.pixels, data.width, data.height, data.channels);
      scope.postMessage({ ok: true, features: out }, [out.buffer as ArrayBuffer]);
    }
  } catch (e) {
    scope.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
};
