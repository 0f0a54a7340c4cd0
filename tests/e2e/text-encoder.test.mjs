// The wasm binding of the sentence encoder (SentenceEncoder), in Node on the scalar build: the
// same embeddings as the numpy reference's fixtures, token counts and truncation as the
// tokenizer gives, f16-rounded unit vectors, and a bad weight file refused with E_FORMAT.
// (The core itself is tested natively and in both wasm builds by tests/encoder_minilm.rs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const core = await import('../../www/pkg/scalar/marginalia.js');
core.initSync({ module: readFileSync(new URL('../../www/pkg/scalar/marginalia_bg.wasm', import.meta.url)) });
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/minilm/embeddings.json', import.meta.url), 'utf8'));

test('SentenceEncoder: the reference embeddings, token counts and truncation; a wrong file is E_FORMAT', () => {
  const enc = new core.SentenceEncoder(readFileSync(new URL('../../weights/minilm-l6.i8.safetensors', import.meta.url)));
  assert.equal(enc.dim, 384);
  assert.match(enc.version, /^all-minilm-l6-v2\/1 i8 128tok$/);
  const texts = fixtures.sentences.map((s) => s.text);
  const r = enc.encode(texts);
  assert.equal(r.features.length, texts.length * 384);
  assert.deepEqual(Array.from(r.tokens), fixtures.sentences.map((s) => s.ids.length));
  assert.equal(r.truncated, 1);
  fixtures.sentences.forEach((s, i) => {
    const row = r.features.subarray(i * 384, (i + 1) * 384);
    const cos = row.reduce((a, v, j) => a + v * s.embedding[j], 0);
    assert.ok(cos >= 0.9999, `${JSON.stringify(s.text)}: cosine ${cos}`);
  });
  enc.free();
  assert.throws(() => new core.SentenceEncoder(readFileSync(new URL('../../weights/efficientnet-lite0.f16.safetensors', import.meta.url))), (e) => e.name === 'E_FORMAT' && /MiniLM weights/.test(e.message));
});
