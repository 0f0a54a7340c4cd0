// Fixed nonlinear feature maps for the playground. Softmax regression on raw (x, y) can only
// draw straight boundaries, which cannot separate moons, circles, XOR or spirals; mapping
// each point to more features first lets the same linear model draw curved regions.
import { gaussian, rng } from './datasets';

export const FEATURE_MAPS = {
  rff: 'Random Fourier features (64 cosines ≈ RBF kernel)',
  poly3: 'Polynomial, degree 3 (9 features)',
  raw: 'Raw coordinates (x, y): straight boundaries only',
} as const;
export type FeatureMapName = keyof typeof FEATURE_MAPS;

export interface FeatureMap {
  width: number;
  /** Map row-major 2-D points to row-major feature rows. */
  apply(xy: Float32Array): Float32Array;
}

/**
 * Random Fourier features (Rahimi & Recht, 2007): cos(w·x + b) with w ~ N(0, 2γI) and
 * b ~ U(0, 2π) approximate the RBF kernel exp(−γ‖x − x'‖²). Unit amplitude (not √(2/D))
 * so the model's default L2 penalty does not flatten the regions when few points are labelled.
 */
function rff(d: number, gamma: number, seed: number): FeatureMap {
  const u = rng(seed);
  const g = gaussian(u);
  const w = Float32Array.from({ length: 2 * d }, () => g() * Math.sqrt(2 * gamma));
  const b = Float32Array.from({ length: d }, () => 2 * Math.PI * u());
  return {
    width: d,
    apply(xy) {
      const n = xy.length / 2;
      const out = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        const x = xy[2 * i], y = xy[2 * i + 1];
        for (let j = 0; j < d; j++) out[i * d + j] = Math.cos(w[2 * j] * x + w[2 * j + 1] * y + b[j]);
      }
      return out;
    },
  };
}

/** Every monomial xᵃyᵇ with 1 ≤ a + b ≤ 3. */
const poly3: FeatureMap = {
  width: 9,
  apply(xy) {
    const n = xy.length / 2;
    const out = new Float32Array(n * 9);
    for (let i = 0; i < n; i++) {
      const x = xy[2 * i], y = xy[2 * i + 1];
      out.set([x, y, x * x, x * y, y * y, x * x * x, x * x * y, x * y * y, y * y * y], i * 9);
    }
    return out;
  },
};

const raw: FeatureMap = { width: 2, apply: (xy) => xy.slice() };

export function featureMap(name: FeatureMapName, seed: number): FeatureMap {
  if (name === 'rff') return rff(64, 4, seed);
  if (name === 'poly3') return poly3;
  return raw;
}
