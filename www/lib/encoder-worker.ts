// `marginalia/encoder-worker`: one worker of the encoder pool (encoder.ts), images or texts. Its own
// wasm instance of the core and its own copy of the pretrained network, so the pool's
// workers encode side by side on every core; or, with `gpu`, the network on the GPU
// (WebGPU through wgpu), many images per dispatch. A bundler that cannot follow
// `new URL('./encoder-worker.js', import.meta.url)` starts it from a file of its own that
// imports this module (EncoderOptions.worker).
import { loadCore, needCore, type Core } from './session.js';
import type { EncoderReply, EncoderRequest } from './encoder.js';

type Cpu = InstanceType<Core['ImageEncoder']>;
type Gpu = Awaited<ReturnType<Core['ImageEncoderGpu']['create']>>;
type Text = InstanceType<Core['SentenceEncoder']>;
let encoder: { cpu: Cpu } | { gpu: Gpu } | { text: Text } | null = null;
const free = () => {
  if (encoder) 'cpu' in encoder ? encoder.cpu.free() : 'gpu' in encoder ? encoder.gpu.free() : encoder.text.free();
  encoder = null;
};
const scope = self as unknown as { onmessage: ((ev: MessageEvent<EncoderRequest>) => void) | null; postMessage(m: EncoderReply, t?: Transferable[]): void };

scope.onmessage = async ({ data }) => {
  try {
    if (data.op === 'init-text') {
      await loadCore();
      free();
      const text = new (needCore().SentenceEncoder)(data.weights);
      encoder = { text };
      scope.postMessage({ ok: true, version: text.version, dim: text.dim });
    } else if (data.op === 'encode-text') {
      if (!encoder || !('text' in encoder)) throw new Error('the encoder worker was not initialized for texts');
      const r = encoder.text.encode(data.texts) as { features: Float32Array; tokens: Uint32Array; truncated: number };
      scope.postMessage({ ok: true, features: r.features, tokens: r.tokens, truncated: r.truncated }, [r.features.buffer as ArrayBuffer, r.tokens.buffer as ArrayBuffer]);
    } else if (data.op === 'init') {
      await loadCore();
      free();
      const core = needCore();
      if (data.gpu) {
        const gpu = await core.ImageEncoderGpu.create(data.weights, data.size);
        encoder = { gpu };
        scope.postMessage({ ok: true, version: gpu.version, dim: gpu.dim, adapter: gpu.adapter });
      } else {
        const cpu = new core.ImageEncoder(data.weights, data.size);
        encoder = { cpu };
        scope.postMessage({ ok: true, version: cpu.version, dim: cpu.dim });
      }
    } else {
      if (!encoder || 'text' in encoder) throw new Error('the encoder worker was not initialized for images');
      const out: Float32Array =
        'cpu' in encoder
          ? encoder.cpu.encode(data.pixels, data.width, data.height, data.channels)
          : await encoder.gpu.encode(data.pixels, data.width, data.height, data.channels);
      scope.postMessage({ ok: true, features: out }, [out.buffer as ArrayBuffer]);
    }
  } catch (e) {
    scope.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
};
