// The engines the page compares, behind one interface: Marginalia's scalar wasm, SIMD
// wasm and WebGPU builds (PoolScorer), and TensorFlow.js's wasm and WebGPU backends
// running the same model on the same data.
//
// One "query round" is what the learner does each time it picks samples: the forward pass
// of every member over the whole unlabelled pool, the committee's mean probabilities, the
// entropy of each row, the scores back in JavaScript, and the 10 best rows.
import initScalar, * as scalarCore from '../pkg/scalar/marginalia.js';
import initSimd, * as simdCore from '../pkg/simd/marginalia.js';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
// Served from this origin: nothing may be fetched from elsewhere.
import tfWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import tfWasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import tfWasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { layerOf, TOP_K, type Pool, type Weights, poolRowsF32 } from './cases';

type Core = typeof simdCore;

export interface Engine {
  readonly name: string;
  /** Load the pool and the model (not timed: a real session does this once). */
  prepare(pool: Pool, weights: Weights): Promise<void>;
  /** One query round; resolves to the backend that ran it ('cpu' after a GPU fallback). */
  round(): Promise<string>;
  /** The committee's mean probabilities, n × classes (the agreement check). */
  probs(): Promise<Float32Array>;
  release(): void;
  /** Bytes this engine holds now, by kind. */
  memory(): Record<string, number>;
}

let loaded: { scalar: WebAssembly.Memory; simd: WebAssembly.Memory } | null = null;

/** Load both Marginalia builds once (the app picks one; the bench wants both). */
export async function loadCores(): Promise<{ scalar: WebAssembly.Memory; simd: WebAssembly.Memory }> {
  if (!loaded) {
    const s = await initScalar();
    const v = await initSimd();
    loaded = { scalar: s.memory, simd: v.memory };
  }
  return loaded;
}

/** Rows per append call: the pool is copied into wasm memory in pieces, not in one 78 MB copy. */
const APPEND_ROWS = 8192;

export class MarginaliaEngine implements Engine {
  private scorer: simdCore.PoolScorer | null = null;
  private net: simdCore.ScoringNetwork | null = null;
  constructor(
    readonly name: string,
    private core: Core,
    private backend: 'cpu' | 'webgpu',
    private wasmMemory: WebAssembly.Memory,
  ) {}

  async prepare(pool: Pool, weights: Weights) {
    const c = this.core;
    this.scorer = pool.bytes ? await c.PoolScorer.createBytes(this.backend, pool.d, 1 / 255) : await c.PoolScorer.create(this.backend, pool.d);
    this.scorer.reserve(pool.n);
    for (let a = 0; a < pool.n; a += APPEND_ROWS) {
      const b = Math.min(pool.n, a + APPEND_ROWS);
      if (pool.bytes) this.scorer.appendBytes(pool.bytes.subarray(a * pool.d, b * pool.d));
      else this.scorer.append(pool.floats!.subarray(a * pool.d, b * pool.d));
    }
    this.net = c.ScoringNetwork.fromWeights(Uint32Array.from(weights.sizes), weights.params, weights.members);
  }

  async round() {
    const r = (await this.scorer!.rank(this.net!, 'entropy', TOP_K)) as { ids: Uint32Array; scores: Float32Array; backend: string };
    if (r.ids.length !== TOP_K || r.scores.length !== this.scorer!.rows) throw new Error(`${this.name}: a round returned ${r.ids.length} ids and ${r.scores.length} scores`);
    return r.backend;
  }

  async probs() {
    const r = (await this.scorer!.score(this.net!)) as { probs: Float32Array };
    return r.probs;
  }

  /** Why the GPU is not used, when it is not. */
  fallbackReason(): string | undefined {
    return this.scorer?.fallbackReason ?? undefined;
  }

  release() {
    this.scorer?.free();
    this.net?.free();
    this.scorer = null;
    this.net = null;
  }

  memory() {
    const m: Record<string, number> = { wasmHeap: this.wasmMemory.buffer.byteLength };
    if (this.scorer && this.backend === 'webgpu') m.gpuPool = this.scorer.gpuResidentBytes;
    return m;
  }
}

let tfWasmReady = false;

/** TensorFlow.js on one backend, the same dense model through its fused matMul (as a Dense layer runs). */
export class TfjsEngine implements Engine {
  private batches: tf.Tensor2D[] = [];
  private layers: { W: tf.Tensor2D; b: tf.Tensor1D; relu: boolean }[][] = [];
  constructor(
    readonly name: string,
    private backend: 'wasm' | 'webgpu',
  ) {}

  static async available(backend: 'wasm' | 'webgpu'): Promise<string | null> {
    if (backend === 'wasm' && !tfWasmReady) {
      setWasmPaths({
        'tfjs-backend-wasm.wasm': tfWasm,
        'tfjs-backend-wasm-simd.wasm': tfWasmSimd,
        'tfjs-backend-wasm-threaded-simd.wasm': tfWasmThreaded,
      });
      // One thread, like Marginalia's wasm (the page is not cross-origin isolated either,
      // so the threaded build could not start).
      setThreadsCount(1);
      tfWasmReady = true;
    }
    try {
      return (await tf.setBackend(backend)) ? null : `tf.setBackend('${backend}') returned false`;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  /** Rows per tensor: the pool is held as f32 tensors of this many rows (TF.js has no u8 dtype). */
  static readonly BATCH = 8192;

  async prepare(pool: Pool, weights: Weights) {
    await tf.setBackend(this.backend);
    await tf.ready();
    for (let a = 0; a < pool.n; a += TfjsEngine.BATCH) {
      const b = Math.min(pool.n, a + TfjsEngine.BATCH);
      this.batches.push(tf.tensor2d(poolRowsF32(pool, a, b), [b - a, pool.d]));
    }
    const nLayers = weights.sizes.length - 1;
    for (let m = 0; m < weights.members; m++) {
      const member = [];
      for (let i = 0; i < nLayers; i++) {
        const l = layerOf(weights, m, i);
        member.push({ W: tf.tensor2d(l.W, [l.din, l.dout]), b: tf.tensor1d(l.b), relu: i + 1 < nLayers });
      }
      this.layers.push(member);
    }
  }

  private meanProbs(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let acc: tf.Tensor2D | null = null;
      for (const member of this.layers) {
        let h: tf.Tensor2D = x;
        for (const l of member) h = tf.fused.matMul({ a: h, b: l.W, bias: l.b, activation: l.relu ? 'relu' : 'linear' }) as tf.Tensor2D;
        const p = tf.softmax(h);
        acc = acc ? tf.add<tf.Tensor2D>(acc, p) : p;
      }
      return tf.div(acc!, this.layers.length);
    });
  }

  async round() {
    const scores = tf.tidy(() =>
      tf.concat(
        this.batches.map((x) => {
          const p = this.meanProbs(x);
          // Entropy −Σ p ln p; p = 0 terms count 0 (p · ln(max(p, tiny)) = 0).
          return tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-30))), 1));
        }),
      ),
    );
    const top = tf.topk(scores, TOP_K);
    const [s, ids] = await Promise.all([scores.data(), top.indices.data()]);
    tf.dispose([scores, top.values, top.indices]);
    if (ids.length !== TOP_K || s.length === 0) throw new Error(`${this.name}: a round returned ${ids.length} ids`);
    return this.backend;
  }

  async probs() {
    const p = tf.tidy(() => tf.concat(this.batches.map((x) => this.meanProbs(x))));
    const out = (await p.data()) as Float32Array;
    p.dispose();
    return out;
  }

  release() {
    tf.dispose(this.batches);
    for (const m of this.layers) for (const l of m) tf.dispose([l.W, l.b]);
    this.batches = [];
    this.layers = [];
  }

  memory() {
    const m: Record<string, number> = { tensors: tf.memory().numBytes };
    if (this.backend === 'wasm') {
      // The wasm backend's Emscripten module: its heap is the backend's linear memory.
      const b = tf.findBackend('wasm') as unknown as { wasm?: { HEAPU8?: Uint8Array } } | undefined;
      if (b?.wasm?.HEAPU8) m.wasmHeap = b.wasm.HEAPU8.buffer.byteLength;
    }
    return m;
  }
}

export { scalarCore, simdCore };
