// One Marginalia sentence encoder in a worker (the package's encoder-worker.ts, without the
// bundler): its own wasm instance of the SIMD build.
let enc = null;
let memory = null;
self.onmessage = async ({ data }) => {
  try {
    if (data.init) {
      const core = await import('/www/pkg/simd/marginalia.js');
      memory = (await core.default()).memory;
      enc = new core.SentenceEncoder(new Uint8Array(data.weights));
      self.postMessage({ ok: true, version: enc.version });
    } else {
      const r = enc.encode(data.texts);
      self.postMessage({ ok: true, out: r.features, memory: memory.buffer.byteLength }, [r.features.buffer]);
    }
  } catch (e) {
    self.postMessage({ ok: false, error: String(e?.message ?? e) });
  }
};
