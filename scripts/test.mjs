// `npm test`: every suite, in order, each runner's summary line printed at the end.
// Runs all suites even after a failure (so one run shows everything), and exits non-zero
// if any failed.
import { run } from './run.mjs';

const suites = [
  { id: 'setup', name: 'setup', cmd: 'bash', args: ['scripts/setup'], summary: () => 'ok' },
  {
    id: 'native', name: 'rust (native cargo test)',
    cmd: 'cargo',
    args: ['test', '--all-targets', '--color', 'never'],
    summary: cargoSummary,
  },
  {
    id: 'wasm', name: 'rust in headless Chromium (wasm-bindgen-test, WebGPU on)',
    cmd: 'bash',
    args: ['scripts/test-wasm.sh', '--color', 'never'],
    summary: cargoSummary,
  },
  { id: 'build', name: 'build (wasm + front end)', cmd: process.execPath, args: ['scripts/build.mjs'], summary: () => 'ok' },
  {
    id: 'tsc', name: 'typecheck (tsc)',
    cmd: process.execPath,
    args: ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json'],
    summary: () => 'no type errors',
  },
  {
    id: 'vitest', name: 'front-end unit (vitest)',
    cmd: process.execPath,
    args: ['node_modules/vitest/vitest.mjs', 'run', '--color=false'],
    env: { NO_COLOR: '1' },
    summary: (out) => (out.match(/^\s*Tests\s+(.*)$/m)?.[1] ?? '?').trim(),
  },
  {
    id: 'e2e', name: 'end to end (playwright-core, Chromium)',
    cmd: process.execPath,
    args: ['--test', '--test-concurrency=1', '--test-reporter=tap', 'tests/e2e/'],
    summary: (out) => {
      const n = (k) => out.match(new RegExp(`^# ${k} (\\d+)$`, 'm'))?.[1] ?? '?';
      return `${n('pass')} passed, ${n('fail')} failed (of ${n('tests')})`;
    },
  },
  {
    // npm pack www/lib, install the tarball into fresh copies of examples/*, build, drive in Chromium.
    id: 'package', name: 'npm package (pack, install into examples/, Chromium)',
    cmd: process.execPath,
    args: ['--test', '--test-concurrency=1', '--test-reporter=tap', 'tests/package/'],
    summary: (out) => {
      const n = (k) => out.match(new RegExp(`^# ${k} (\\d+)$`, 'm'))?.[1] ?? '?';
      return `${n('pass')} passed, ${n('fail')} failed (of ${n('tests')})`;
    },
  },
];

/** Sum the "test result:" lines cargo prints per test binary. */
function cargoSummary(out) {
  let passed = 0, failed = 0, ignored = 0, binaries = 0;
  for (const m of out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/g)) {
    passed += +m[1];
    failed += +m[2];
    ignored += +m[3];
    binaries += 1;
  }
  return `${passed} passed, ${failed} failed, ${ignored} ignored (${binaries} test binaries)`;
}

// A subset: suites whose short id (native, wasm, build, tsc, vitest, e2e, package) or
// name contains the text, e.g. MARGINALIA_TEST_ONLY=e2e.
const only = process.env.MARGINALIA_TEST_ONLY;
const results = [];
const t0 = Date.now();
for (const s of suites) {
  if (only && !s.id.includes(only) && !s.name.includes(only) && s.id !== 'setup') continue;
  console.log(`\n===== ${s.name} =====`);
  const start = Date.now();
  const r = await run(s.cmd, s.args, { env: { ...process.env, ...(s.env ?? {}) } });
  const secs = ((Date.now() - start) / 1000).toFixed(0);
  results.push({ name: s.name, ok: r.code === 0, summary: s.summary(r.output), secs });
  if (s.name === 'setup' && r.code !== 0) break; // nothing else can run
}

console.log('\n===== summary =====');
for (const r of results) console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}: ${r.summary}  [${r.secs}s]`);
const failed = results.filter((r) => !r.ok);
console.log(`\n${failed.length ? 'FAILED' : 'ALL PASSED'} in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
process.exit(failed.length ? 1 : 0);
