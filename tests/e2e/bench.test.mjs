// The benchmark page (`npm run bench`) must not rot: its smoke mode bundles the page, runs
// one small case (300 rows × 64 features, committee of 5 MLPs) on every engine in headless
// Chromium, and fails unless each engine answered on its own backend with probabilities
// within 1e-4 of Marginalia's scalar wasm build, fetching nothing from another origin.
// Benchmarks are not timed tests: nothing here depends on how fast a round is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('bench page smoke: every engine scores one small case and agrees', { timeout: 300_000 }, () => {
  const r = spawnSync(process.execPath, ['scripts/bench.mjs', '--smoke', '--no-build'], { encoding: 'utf8' });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.match(out, /bench smoke ok: 5 engines/, out);
});

test("encoder bench page smoke: Marginalia's encoders (scalar, SIMD, pool) run and agree bit for bit", { timeout: 300_000 }, () => {
  const r = spawnSync(process.execPath, ['bench/encoder-speed.mjs', '--smoke'], { encoding: 'utf8' });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.match(out, /encoder bench smoke ok: 3 engines agree/, out);
});
