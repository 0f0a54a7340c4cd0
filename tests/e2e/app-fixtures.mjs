// Fixtures for the app's end-to-end tests: real images written to a temp folder (PNGs
// encoded here from the shared Fashion-MNIST subset), and direct reads of IndexedDB (not
// through the app) to check what is really stored.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gunzipSync } from 'node:zlib';

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** An 8-bit greyscale PNG of `w`×`h` bytes. */
export function greyPng(pixels, w, h) {
  return png(pixels, w, h, 1);
}

/** An 8-bit RGB PNG of `w`×`h`×3 bytes. */
export function rgbPng(pixels, w, h) {
  return png(pixels, w, h, 3);
}

function png(pixels, w, h, channels) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 3 ? 2 : 0; // truecolour or greyscale
  const row = w * channels;
  const raw = Buffer.alloc((row + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (row + 1)] = 0; // filter: none
    Buffer.from(pixels.subarray(y * row, (y + 1) * row)).copy(raw, y * (row + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The Fashion-MNIST 1k subset: { images: [Uint8Array(784)], labels: number[] }. */
export function fashion() {
  const img = gunzipSync(readFileSync('datasets/fashion-mnist-1k-images-idx3-ubyte.gz'));
  const lbl = gunzipSync(readFileSync('datasets/fashion-mnist-1k-labels-idx1-ubyte.gz'));
  const n = img.readUInt32BE(4);
  const images = [];
  for (let i = 0; i < n; i++) images.push(new Uint8Array(img.subarray(16 + i * 784, 16 + (i + 1) * 784)));
  return { images, labels: Array.from(lbl.subarray(8, 8 + n)) };
}

/**
 * A folder `root/<class>/<n>.png` with `perClass` images of each of the given Fashion
 * classes (folder name → Fashion class index), plus `extra` files { path: bytes }.
 * Returns { dir, root, truth: Map(file name → folder) }.
 */
export function imageFolder(classes, perClass, extra = {}) {
  const { images, labels } = fashion();
  const dir = mkdtempSync(join(tmpdir(), 'marginalia-images-'));
  const root = join(dir, 'photos');
  const truth = new Map();
  for (const [folder, cls] of Object.entries(classes)) {
    mkdirSync(join(root, folder), { recursive: true });
    let k = 0;
    for (let i = 0; i < labels.length && k < perClass; i++) {
      if (labels[i] !== cls) continue;
      const name = `${folder.replace(/[^a-z]/gi, '') || 'x'}-${k}.png`;
      writeFileSync(join(root, folder, name), greyPng(images[i], 28, 28));
      truth.set(name, folder);
      k++;
    }
  }
  for (const [p, bytes] of Object.entries(extra)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), bytes);
  }
  return { dir, root, truth };
}

/** Every record of a store, read straight from IndexedDB in the page. */
export function readStore(page, store) {
  return page.evaluate(
    (name) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('marginalia');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const req = db.transaction(name).objectStore(name).getAll();
          req.onsuccess = () => {
            db.close();
            resolve(req.result);
          };
          req.onerror = () => reject(req.error);
        };
      }),
    store,
  );
}

/** The demo project's stored record. */
export async function demoProject(page) {
  return (await readStore(page, 'projects')).find((p) => p.id === 'demo');
}

/** The open project's id, as the page remembers it. */
export async function openProjectId(page) {
  const meta = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('marginalia');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction('meta').objectStore('meta').get('lastProject');
          req.onsuccess = () => {
            open.result.close();
            resolve(req.result);
          };
        };
      }),
  );
  return meta;
}

/** Choose a data file in the app's data import; resolves once the form (or a refusal) shows. */
export async function pickData(page, path) {
  // The report of the file before must not pass for this one's.
  await page.evaluate(() => (document.getElementById('import-report').textContent = ''));
  await page.setInputFiles('#pick-data', path);
  await page.waitForFunction(() => {
    if (!document.getElementById('data-form').hidden) return true;
    const r = document.getElementById('import-report').textContent;
    return /Nothing was stored/.test(r);
  }, null, { timeout: 60_000 });
}

/** Import what is in the form; resolves with the report once it is done. */
export async function importData(page, { kind, text, label, labels, uncheck = [] } = {}) {
  if (kind) await page.selectOption('#data-kind', kind);
  if (text) await page.selectOption('#data-text', text);
  if (label !== undefined) await page.selectOption('#data-label', label);
  if (labels) await page.selectOption('#data-labels', labels);
  for (const c of uncheck) await page.locator(`#data-column-boxes input[value="${c}"]`).uncheck();
  const before = await openProjectId(page);
  await page.click('#data-import');
  await page.waitForFunction(() => /Imported|failed/.test(document.getElementById('import-report').textContent), null, { timeout: 120_000 });
  const r = await page.textContent('#import-report');
  if (/Imported/.test(r)) {
    // The new project is opened after the report: wait until it is the open one.
    for (let i = 0; i < 600 && (await openProjectId(page)) === before; i++) await new Promise((res) => setTimeout(res, 100));
    await page.waitForFunction(() => document.getElementById('labeler').getAttribute('aria-busy') === 'false', null, { timeout: 60_000 });
  }
  return r;
}
