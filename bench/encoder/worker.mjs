// One Marginalia encoder in a worker (the app's encode.worker.ts, without the bundler): its
// own wasm instance, the SIMD or the scalar build as asked.
let enc = null;
let memory = null;
self.onmessage = async ({ data }) => {
  try {
    if (data.init) {
      const core = await import(`/www/pkg/${data.build}/marginalia.js`);
      memory = (await core.default()).memory;
      enc = data.gpu ? await core.ImageEncoderGpu.create(new Uint8Array(data.weights), data.size) : new core.ImageEncoder(new Uint8Array(data.weights), data.size);
      self.postMessage({ ok: true, version: enc.version });
    } else {
      const t0 = performance.now();
      const out = await enc.encode(new Uint8Array(data.pixels), data.width, data.height, 3);
      self.postMessage({ ok: true, out, ms: performance.now() - t0, memory: memory.buffer.byteLength }, [out.buffer]);
    }
  } catch (e) {
    self.postMessage({ ok: false, error: String(e?.message ?? e) });
  }
};
