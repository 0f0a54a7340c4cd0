// The benchmark's cases and their seeded data, generated the same way here and in
// examples/bench_scoring.rs (native), so every engine scores the same numbers.
//
// Generator: xorshift32 (Marsaglia 2003, shifts 13/17/5); a uniform draw in [lo, hi) is
// lo + (hi − lo)·u with u = (x >>> 8) / 2²⁴, every step rounded to f32 as Rust does.

export type ModelName = 'softmax' | 'mlp256' | 'committee5';
export const MODELS: ModelName[] = ['softmax', 'mlp256', 'committee5'];
export const MODEL_LABEL: Record<ModelName, string> = {
  softmax: 'softmax regression',
  mlp256: 'MLP 256 hidden',
  committee5: 'committee of 5 MLP 256',
};
export const CLASSES = 10;
export const TOP_K = 10;

export class XorShift32 {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 1; // xorshift never leaves 0
  }
  nextU32(): number {
    let x = this.x;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  /** f32 in [lo, hi). */
  uniform(lo: number, hi: number): number {
    const f = Math.fround;
    const u = (this.nextU32() >>> 8) / 16777216;
    return f(f(f(f(hi) - f(lo)) * u) + f(lo));
  }
}

/** Seeds shared with the native bench. */
export const poolSeed = (n: number, d: number) => (n * 31 + d) >>> 0;
export const memberSeed = (d: number, member: number) => (0x5eed + d * 7 + member * 101) >>> 0;

/** The pool: d = 784 as bytes (pixels, read as byte/255), other widths as f32 in [−1, 1). */
export interface Pool {
  n: number;
  d: number;
  bytes?: Uint8Array;
  floats?: Float32Array;
}

export function makePool(n: number, d: number): Pool {
  const rng = new XorShift32(poolSeed(n, d));
  if (d === 784) {
    const bytes = new Uint8Array(n * d);
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.nextU32() >>> 24;
    return { n, d, bytes };
  }
  const floats = new Float32Array(n * d);
  for (let i = 0; i < floats.length; i++) floats[i] = rng.uniform(-1, 1);
  return { n, d, floats };
}

/** Pool rows [a, b) as f32 (bytes scaled by 1/255 in f32, as the engine's u8 pool does). */
export function poolRowsF32(p: Pool, a: number, b: number): Float32Array {
  if (p.floats) return p.floats.subarray(a * p.d, b * p.d);
  const src = p.bytes!.subarray(a * p.d, b * p.d);
  const out = new Float32Array(src.length);
  const scale = Math.fround(1 / 255);
  for (let i = 0; i < src.length; i++) out[i] = Math.fround(src[i] * scale);
  return out;
}

/**
 * A model's weights: `sizes` [d, hidden…, classes]; `params` member after member, layer
 * after layer, W (in × out, row-major) then b; the layout `ScoringNetwork.fromWeights`
 * takes. W ~ U(±1/√in), b ~ U(±0.1), each member from its own seed.
 */
export interface Weights {
  sizes: number[];
  members: number;
  params: Float32Array;
}

export function makeWeights(model: ModelName, d: number): Weights {
  const sizes = model === 'softmax' ? [d, CLASSES] : [d, 256, CLASSES];
  const members = model === 'committee5' ? 5 : 1;
  let perMember = 0;
  for (let i = 0; i + 1 < sizes.length; i++) perMember += (sizes[i] + 1) * sizes[i + 1];
  const params = new Float32Array(perMember * members);
  let o = 0;
  for (let m = 0; m < members; m++) {
    const rng = new XorShift32(memberSeed(d, m));
    for (let i = 0; i + 1 < sizes.length; i++) {
      const s = Math.fround(1 / Math.fround(Math.sqrt(sizes[i])));
      for (let j = 0; j < sizes[i] * sizes[i + 1]; j++) params[o++] = rng.uniform(-s, s);
      for (let j = 0; j < sizes[i + 1]; j++) params[o++] = rng.uniform(-0.1, 0.1);
    }
  }
  return { sizes, members, params };
}

/** Member m's layer i as (W, b) views into `params`. */
export function layerOf(w: Weights, m: number, i: number): { W: Float32Array; b: Float32Array; din: number; dout: number } {
  let perMember = 0;
  for (let l = 0; l + 1 < w.sizes.length; l++) perMember += (w.sizes[l] + 1) * w.sizes[l + 1];
  let o = m * perMember;
  for (let l = 0; l < i; l++) o += (w.sizes[l] + 1) * w.sizes[l + 1];
  const din = w.sizes[i], dout = w.sizes[i + 1];
  return { W: w.params.subarray(o, o + din * dout), b: w.params.subarray(o + din * dout, o + din * dout + dout), din, dout };
}
