// The encoder speed page (driven by bench/encoder-speed.mjs): the same images through
// Marginalia's encoder (scalar wasm, SIMD wasm in one worker, a pool of workers) and
// onnxruntime-web (wasm on one thread and on all, WebGPU) running the same network
// (bench/encoder/make_onnx.py). Every engine's embeddings are checked against the SIMD
// worker's before its time counts.
// onnxruntime-web is imported when its engines run: the smoke mode (Marginalia only) works
// without the peer installed.
const loadOrt = () => import('./node_modules/onnxruntime-web/dist/ort.all.min.mjs');

const SIZE = 224;
const CHUNK = 8;

function log(s) {
  document.getElementById('log').textContent += s + '\n';
}

/** n RGB images of SIZE × SIZE: the fixture photos, tiled and shifted so each differs. */
async function images(n) {
  const files = [['airplane-0000.32x32.rgb', 32, 32], ['cat-0003.32x32.rgb', 32, 32], ['ship-0010.32x32.rgb', 32, 32], ['grace-hopper.128x150.rgb', 128, 150]];
  const srcs = await Promise.all(files.map(async ([f, w, h]) => ({ px: new Uint8Array(await (await fetch(`/tests/fixtures/effnet/${f}`)).arrayBuffer()), w, h })));
  const out = new Uint8Array(n * SIZE * SIZE * 3);
  for (let i = 0; i < n; i++) {
    const s = srcs[i % srcs.length];
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) {
        const sy = Math.floor(((y + i) % SIZE) * s.h / SIZE);
        const sx = Math.floor(x * s.w / SIZE);
        for (let c = 0; c < 3; c++) out[((i * SIZE + y) * SIZE + x) * 3 + c] = s.px[(sy * s.w + sx) * 3 + c];
      }
  }
  return out;
}

function worker(build, weights, gpu = false) {
  const w = new Worker('./worker.mjs', { type: 'module' });
  const call = (msg, transfer = []) =>
    new Promise((res, rej) => {
      w.onmessage = ({ data }) => (data.ok ? res(data) : rej(new Error(data.error)));
      w.postMessage(msg, transfer);
    });
  return { init: () => call({ init: true, build, gpu, weights: weights.slice().buffer, size: SIZE }), call, terminate: () => w.terminate() };
}

/** Encode all images on `k` Marginalia workers (chunks of CHUNK handed out in turn). */
async function marginalia(build, k, weights, px, n, gpu = false, chunk = CHUNK) {
  const ws = Array.from({ length: k }, () => worker(build, weights, gpu));
  await Promise.all(ws.map((w) => w.init()));
  const per = SIZE * SIZE * 3;
  const out = new Float32Array(n * 1280);
  // Warm-up: one image per worker.
  await Promise.all(ws.map((w) => w.call({ pixels: px.slice(0, per).buffer, width: SIZE, height: SIZE })));
  let next = 0;
  let memory = 0;
  const t0 = performance.now();
  await Promise.all(
    ws.map(async (w) => {
      while (next < n) {
        const s = next;
        const e = Math.min(n, s + chunk);
        next = e;
        const part = px.slice(s * per, e * per);
        const r = await w.call({ pixels: part.buffer, width: SIZE, height: SIZE }, [part.buffer]);
        out.set(r.out, s * 1280);
        memory = Math.max(memory, r.memory);
      }
    }),
  );
  const ms = performance.now() - t0;
  ws.forEach((w) => w.terminate());
  return { ms, out, memory };
}

/** The same images through onnxruntime-web (NCHW, (x − 127) / 128, batches of CHUNK). */
async function onnx(model, provider, threads, px, n) {
  const ort = await loadOrt();
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = '/bench/encoder/node_modules/onnxruntime-web/dist/';
  const session = await ort.InferenceSession.create(model, { executionProviders: [provider], graphOptimizationLevel: 'all' });
  const per = SIZE * SIZE * 3;
  const tensor = (s, e) => {
    const b = e - s;
    const x = new Float32Array(b * per);
    for (let i = 0; i < b; i++)
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < SIZE * SIZE; p++) x[(i * 3 + c) * SIZE * SIZE + p] = (px[(s + i) * per + p * 3 + c] - 127) / 128;
    return new ort.Tensor('float32', x, [b, 3, SIZE, SIZE]);
  };
  const inputs = [];
  for (let s = 0; s < n; s += CHUNK) inputs.push([s, tensor(s, Math.min(n, s + CHUNK))]);
  await session.run({ input: tensor(0, 1) }); // warm-up
  const out = new Float32Array(n * 1280);
  const t0 = performance.now();
  for (const [s, t] of inputs) out.set((await session.run({ input: t })).embedding.data, s * 1280);
  const ms = performance.now() - t0;
  await session.release();
  return { ms, out };
}

function worstRel(a, ref) {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return worst / scale;
}

window.runBench = async ({ n, engines }) => {
  const weights = new Uint8Array(await (await fetch('/weights/efficientnet-lite0.f16.safetensors')).arrayBuffer());
  const model = engines.some((e) => e.startsWith('ort')) ? new Uint8Array(await (await fetch('/dist-bench/encoder/effnet-lite0-224.onnx')).arrayBuffer()) : null;
  const px = await images(n);
  const cores = navigator.hardwareConcurrency || 2;
  const rows = [];
  let ref = null;
  for (const e of engines) {
    const t = performance.now();
    let r;
    try {
      if (e === 'simd-1') r = await marginalia('simd', 1, weights, px, n);
      else if (e === 'scalar-1') r = await marginalia('scalar', 1, weights, px, n);
      else if (e === 'simd-pool') r = await marginalia('simd', cores, weights, px, n);
      else if (e === 'webgpu') r = await marginalia('simd', 1, weights, px, n, true, 1);
      else if (e === 'ort-wasm-1') r = await onnx(model, 'wasm', 1, px, n);
      else if (e === 'ort-wasm-all') r = await onnx(model, 'wasm', cores, px, n);
      else if (e === 'ort-webgpu') r = await onnx(model, 'webgpu', 1, px, n);
      if (!ref) ref = r.out;
      rows.push({ engine: e, n, ms: r.ms, msPerImage: r.ms / n, workers: e === 'simd-pool' ? cores : 1, memory: r.memory ?? null, worstRel: worstRel(r.out, ref) });
    } catch (err) {
      rows.push({ engine: e, n, error: String(err?.message ?? err) });
    }
    log(`${e}: ${JSON.stringify(rows[rows.length - 1])} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  }
  let adapter = null;
  try {
    const a = await navigator.gpu?.requestAdapter();
    adapter = a ? (a.info?.description || a.info?.vendor || 'WebGPU adapter') : null;
  } catch {}
  return { rows, cores, adapter, crossOriginIsolated: self.crossOriginIsolated };
};
window.benchReady = true;

/**
 * Memory while encoding `n` images on the SIMD worker pool: images are made a chunk at a
 * time (as an import hands them over), features kept as the app keeps them (n × 1280 f32).
 * Returns the largest wasm memory any worker reported and the wall time.
 */
window.memoryRun = async ({ n }) => {
  const weights = new Uint8Array(await (await fetch('/weights/efficientnet-lite0.f16.safetensors')).arrayBuffer());
  const base = await images(16);
  const per = SIZE * SIZE * 3;
  const cores = navigator.hardwareConcurrency || 2;
  const ws = Array.from({ length: cores }, () => worker('simd', weights));
  await Promise.all(ws.map((w) => w.init()));
  const out = new Float32Array(n * 1280);
  let next = 0;
  let wasm = 0;
  const t0 = performance.now();
  await Promise.all(
    ws.map(async (w) => {
      while (next < n) {
        const s = next;
        const e = Math.min(n, s + CHUNK);
        next = e;
        const part = new Uint8Array((e - s) * per);
        for (let i = s; i < e; i++) part.set(base.subarray((i % 16) * per, (i % 16 + 1) * per), (i - s) * per);
        const r = await w.call({ pixels: part.buffer, width: SIZE, height: SIZE }, [part.buffer]);
        out.set(r.out, s * 1280);
        wasm = Math.max(wasm, r.memory);
      }
    }),
  );
  const ms = performance.now() - t0;
  ws.forEach((w) => w.terminate());
  return { n, ms, wasmPeak: wasm, workers: cores, features: out.length * 4 };
};
