// The sentence encoder speed page (driven by bench/text-encoder-speed.mjs): the same spam
// subjects through Marginalia's encoder (SIMD wasm in one worker, and a pool of one worker
// per core) and Transformers.js running the same model (all-MiniLM-L6-v2, an int8 ONNX
// export, from local files only) on its wasm backend with one thread and with all. Every
// engine's embeddings are compared with Marginalia's one worker (worst cosine).
const CHUNK = 32;

/** The first n spam subjects (repeated past the 4,307 there are). */
async function subjects(n) {
  const tsv = await (await fetch('/datasets/spamassassin-subjects.tsv')).text();
  const all = tsv.trim().split('\n').slice(1).map((l) => l.slice(l.indexOf('\t') + 1));
  return Array.from({ length: n }, (_, i) => all[i % all.length]);
}

function worker(weights) {
  const w = new Worker('./text-worker.mjs', { type: 'module' });
  const call = (msg) =>
    new Promise((res, rej) => {
      w.onmessage = ({ data }) => (data.ok ? res(data) : rej(new Error(data.error)));
      w.postMessage(msg);
    });
  return { init: () => call({ init: true, weights: weights.slice().buffer }), call, terminate: () => w.terminate() };
}

/** All texts on k Marginalia workers, chunks handed out in turn. */
async function marginalia(k, weights, texts) {
  const ws = Array.from({ length: k }, () => worker(weights));
  await Promise.all(ws.map((w) => w.init()));
  const out = new Float32Array(texts.length * 384);
  let next = 0;
  let memory = 0;
  const t0 = performance.now();
  await Promise.all(
    ws.map(async (w) => {
      while (next < texts.length) {
        const s = next;
        const e = Math.min(texts.length, s + CHUNK);
        next = e;
        const r = await w.call({ texts: texts.slice(s, e) });
        out.set(r.out, s * 384);
        memory = Math.max(memory, r.memory);
      }
    }),
  );
  const ms = performance.now() - t0;
  ws.forEach((w) => w.terminate());
  return { ms, out, memory };
}

/** Transformers.js's feature-extraction pipeline, mean pooling and normalisation, `threads` wasm threads. */
async function transformers(threads, texts) {
  const t = await import('./node_modules/@huggingface/transformers/dist/transformers.web.js');
  t.env.allowRemoteModels = false;
  t.env.allowLocalModels = true;
  t.env.localModelPath = '/dist-bench/text-model/';
  t.env.backends.onnx.wasm.numThreads = threads;
  t.env.backends.onnx.wasm.wasmPaths = new URL('./node_modules/@huggingface/transformers/node_modules/onnxruntime-web/dist/', import.meta.url).href;
  const extractor = await t.pipeline('feature-extraction', 'all-MiniLM-L6-v2', { dtype: 'q8', device: 'wasm' });
  await extractor(texts.slice(0, 2), { pooling: 'mean', normalize: true }); // warm-up
  const out = new Float32Array(texts.length * 384);
  const t0 = performance.now();
  for (let s = 0; s < texts.length; s += CHUNK) {
    const r = await extractor(texts.slice(s, s + CHUNK), { pooling: 'mean', normalize: true });
    out.set(r.data, s * 384);
  }
  const ms = performance.now() - t0;
  await extractor.dispose();
  return { ms, out, version: t.env.version };
}

/** The smallest cosine between rows of a and b (norms taken: f16 rounding leaves rows a hair off unit length). */
function worstCosine(a, b) {
  let worst = 1;
  for (let i = 0; i < a.length / 384; i++) {
    let c = 0, na = 0, nb = 0;
    for (let j = 0; j < 384; j++) {
      const x = a[i * 384 + j], y = b[i * 384 + j];
      c += x * y;
      na += x * x;
      nb += y * y;
    }
    worst = Math.min(worst, c / Math.sqrt(na * nb));
  }
  return worst;
}

let reference = null;
window.runTextBench = async ({ n, engine }) => {
  const texts = await subjects(n);
  const cores = navigator.hardwareConcurrency || 2;
  const weights = new Uint8Array(await (await fetch('/weights/minilm-l6.i8.safetensors')).arrayBuffer());
  let r;
  if (engine === 'simd-1') r = await marginalia(1, weights, texts);
  else if (engine === 'simd-pool') r = await marginalia(cores, weights, texts);
  else if (engine === 'tjs-wasm-1') r = await transformers(1, texts);
  else if (engine === 'tjs-wasm-all') r = await transformers(cores, texts);
  else throw new Error(`unknown engine ${engine}`);
  if (engine === 'simd-1') reference = r.out;
  return { engine, n: texts.length, perSecond: (texts.length * 1000) / r.ms, worstCosine: reference ? worstCosine(r.out, reference) : null, memory: r.memory ?? null, version: r.version ?? null, cores, crossOriginIsolated: self.crossOriginIsolated };
};
window.benchReady = true;
