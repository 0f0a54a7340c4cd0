// The built-in demo: the Fashion-MNIST 1k subset shipped in datasets/ (MIT, Zalando SE).
import type { DatasetMeta } from './store/db';

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

export interface RawDemo {
  meta: DatasetMeta;
  images: Uint8Array;
  labels: Uint8Array;
}

/** Load the demo's IDX files; `parseIdx` is the wasm parser (run in the worker). */
export async function loadDemo(
  parseIdx: (b: Uint8Array) => Promise<{ dims: number[]; data: Uint8Array }>,
): Promise<RawDemo> {
  const [imgBytes, lblBytes] = await Promise.all([
    fetchGunzip('./fashion-mnist-1k-images-idx3-ubyte.gz'),
    fetchGunzip('./fashion-mnist-1k-labels-idx1-ubyte.gz'),
  ]);
  const img = await parseIdx(imgBytes);
  const lbl = await parseIdx(lblBytes);
  const [count, height, width] = img.dims;
  if (img.dims.length !== 3 || lbl.dims.length !== 1 || lbl.dims[0] !== count) {
    throw new Error(`demo files disagree: images ${img.dims.join('×')}, labels ${lbl.dims.join('×')}`);
  }
  return {
    meta: { name: 'Fashion-MNIST 1k (demo)', classNames: FASHION_CLASSES, width, height, count },
    images: img.data,
    labels: lbl.data,
  };
}
