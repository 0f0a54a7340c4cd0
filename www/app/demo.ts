// The built-in demo: the Fashion-MNIST 1k subset shipped in datasets/ (MIT, Zalando SE),
// stored as the project "demo" with a fixed held-out split for the accuracy figure.
import { DEMO_PROJECT, type ProjectRecord, type SampleRecord } from './store/db';

export const FASHION_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/**
 * Fetch a gzipped file from this origin and unpack it with the browser's own gunzip.
 * Some static servers (vite preview among them) send `.gz` files with
 * `Content-Encoding: gzip`, so the browser has already unpacked them: check the gzip magic
 * bytes rather than trusting the file name.
 */
export async function fetchGunzip(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url}: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export interface DemoEngine {
  parseIdx(b: Uint8Array): Promise<{ dims: number[]; data: Uint8Array }>;
  split(labels: Uint32Array, testFrac: number, seed: number): Promise<{ train: Uint32Array; test: Uint32Array }>;
}

/** Build the demo project (not stored yet): 70 % pool to label, 30 % held out. */
export async function buildDemo(engine: DemoEngine): Promise<{ project: ProjectRecord; samples: SampleRecord[] }> {
  const [imgBytes, lblBytes] = await Promise.all([
    fetchGunzip('./fashion-mnist-1k-images-idx3-ubyte.gz'),
    fetchGunzip('./fashion-mnist-1k-labels-idx1-ubyte.gz'),
  ]);
  const img = await engine.parseIdx(imgBytes);
  const lbl = await engine.parseIdx(lblBytes);
  const [count, height, width] = img.dims;
  if (img.dims.length !== 3 || lbl.dims.length !== 1 || lbl.dims[0] !== count) {
    throw new Error(`demo files disagree: images ${img.dims.join('×')}, labels ${lbl.dims.join('×')}`);
  }
  const { test } = await engine.split(Uint32Array.from(lbl.data), 0.3, 0);
  const testSet = new Set(test);
  const px = width * height;
  const samples: SampleRecord[] = Array.from({ length: count }, (_, i) => ({
    project: DEMO_PROJECT,
    id: i,
    pixels: img.data.slice(i * px, (i + 1) * px),
    truth: lbl.data[i],
    split: testSet.has(i) ? 'test' : 'pool',
    source: `fashion-mnist-1k #${i}`,
  }));
  const project: ProjectRecord = {
    id: DEMO_PROJECT,
    name: 'Fashion-MNIST 1k (demo)',
    kind: 'image',
    classNames: FASHION_CLASSES,
    width,
    height,
    channels: 1,
    createdAt: Date.now(),
    current: null,
    history: [],
  };
  return { project, samples };
}
