// Write the PNGs examples/plain-html/images.html labels: Fashion-MNIST images (28×28 grey,
// from datasets/, MIT licence) of two classes, T-shirts and trousers, plus a manifest
// naming each file's class and its index in the IDX file (the test compares the decoded
// pixels with those bytes). Run once; the output is committed:
//   node tests/package/make-example-images.mjs
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { encodePng } from './png.mjs';

const root = resolve(import.meta.dirname, '../..');
const images = gunzipSync(readFileSync(join(root, 'datasets/fashion-mnist-1k-images-idx3-ubyte.gz')));
const labels = gunzipSync(readFileSync(join(root, 'datasets/fashion-mnist-1k-labels-idx1-ubyte.gz')));
const n = images.readUInt32BE(4), h = images.readUInt32BE(8), w = images.readUInt32BE(12);
const out = join(root, 'examples/plain-html/images');
mkdirSync(out, { recursive: true });

const PER_CLASS = 16; // 12 for the pool, 4 added after a restore
const classes = [['tshirt', 0], ['trouser', 1]];
const files = [];
for (const [name, label] of classes) {
  let k = 0;
  for (let i = 0; i < n && k < PER_CLASS; i++) {
    if (labels[8 + i] !== label) continue;
    const file = `${name}-${String(k).padStart(2, '0')}.png`;
    writeFileSync(join(out, file), encodePng(images.subarray(16 + i * w * h, 16 + (i + 1) * w * h), w, h, 1));
    files.push({ file, label: classes.findIndex((c) => c[1] === label), idx: i });
    k++;
  }
}
const manifest = { classes: classes.map((c) => c[0]), size: w, source: 'datasets/fashion-mnist-1k-images-idx3-ubyte.gz', files };
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
console.log(`${files.length} images in ${out}`);
