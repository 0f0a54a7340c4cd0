// Seeded 2-D toy datasets for the playground. Same name, size and seed: same points, in
// every browser (a small integer PRNG, no Math.random).

/** A labelled 2-D dataset: `xy` row-major (x0, y0, x1, y1, ...), one label per point. */
export interface Dataset2D {
  xy: Float32Array;
  labels: Uint32Array;
  classes: number;
}

export const DATASETS = {
  moons: 'Two moons',
  circles: 'Circles',
  blobs: 'Blobs with a rare class',
  xor: 'XOR',
  spirals: 'Spirals',
} as const;
export type DatasetName = keyof typeof DATASETS;

/** mulberry32: a tiny, well-mixed 32-bit generator; plenty for drawing toy points. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws (Box–Muller) from a uniform generator. */
export function gaussian(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/**
 * `n` points of dataset `name`. `noisy` widens the scatter and flips 5% of the labels, the
 * way real labels are sometimes wrong.
 */
export function generate(name: DatasetName, n: number, seed: number, noisy: boolean): Dataset2D {
  const u = rng(seed);
  const g = gaussian(u);
  const xy = new Float32Array(n * 2);
  const labels = new Uint32Array(n);
  const jitter = noisy ? 0.22 : 0.08;
  let classes = 2;
  for (let i = 0; i < n; i++) {
    let x = 0, y = 0, c = 0;
    switch (name) {
      case 'moons': {
        c = i % 2;
        const t = Math.PI * u();
        // Upper moon centred at the origin, lower moon shifted right and down to interleave.
        [x, y] = c === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
        x = x - 0.5 + jitter * g();
        y = y - 0.25 + jitter * g();
        break;
      }
      case 'circles': {
        c = i % 2;
        const t = 2 * Math.PI * u();
        const r = c === 0 ? 1 : 0.45;
        x = r * Math.cos(t) + jitter * 0.7 * g();
        y = r * Math.sin(t) + jitter * 0.7 * g();
        break;
      }
      case 'blobs': {
        classes = 3;
        // 47% / 47% / 6%: the rare class is what random sampling tends to miss.
        const v = u();
        c = v < 0.47 ? 0 : v < 0.94 ? 1 : 2;
        const centres = [[-0.8, -0.5], [0.8, -0.4], [0.05, 0.85]];
        const spread = noisy ? 0.38 : 0.25;
        x = centres[c][0] + spread * g();
        y = centres[c][1] + spread * g();
        break;
      }
      case 'xor': {
        x = 2 * u() - 1;
        y = 2 * u() - 1;
        c = x * y > 0 ? 0 : 1;
        x += jitter * 0.3 * g();
        y += jitter * 0.3 * g();
        break;
      }
      case 'spirals': {
        c = i % 2;
        const t = 0.25 + 2.75 * Math.PI * Math.sqrt(u()); // more points further out, like the area
        const r = t / (3 * Math.PI);
        const phase = c === 0 ? 0 : Math.PI;
        x = r * Math.cos(t + phase) * 1.2 + jitter * 0.4 * g();
        y = r * Math.sin(t + phase) * 1.2 + jitter * 0.4 * g();
        break;
      }
    }
    if (noisy && u() < 0.05) c = (c + 1 + Math.floor(u() * (classes - 1))) % classes;
    xy[2 * i] = x;
    xy[2 * i + 1] = y;
    labels[i] = c;
  }
  return { xy, labels, classes };
}
