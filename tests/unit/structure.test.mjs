// The structure the architecture promises (docs/ARCHITECTURE.md), checked on the sources:
// no import cycles between modules, and the lists written in two languages agree with the
// one the Rust core owns. Plain JavaScript (.mjs), outside tsc (no Node types there).
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { cycles, rustGraph, rustModules } from '../../scripts/rust-cycles.mjs';
import { tsGraph } from '../../scripts/ts-cycles.mjs';

const read = (p) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

test('no import cycles between the Rust modules', () => {
  expect(cycles(rustGraph('src'))).toEqual([]);
});

test('the cycle finder finds a cycle (it can fail)', () => {
  const g = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]]);
  expect(cycles(g)).toEqual([['a', 'b', 'c']]);
});

test('no import cycles between the TypeScript modules', () => {
  expect(cycles(tsGraph('www'))).toEqual([]);
});

test('the error codes of the Rust core and of the package agree', () => {
  const rust = [...read('src/error.rs').matchAll(/=> "(E_[A-Z_]+)"/g)].map((m) => m[1]);
  const ts = read('www/lib/errors.ts');
  const core = ts.slice(ts.indexOf('// From the Rust core'), ts.indexOf("// The package's own"));
  const passed = [...core.matchAll(/'(E_[A-Z_]+)'/g)].map((m) => m[1]);
  // E_IO is a file read: only the native simulator reads files, so it never reaches a page.
  expect(rust.filter((c) => c !== 'E_IO').sort()).toEqual([...passed].sort());
  const io = [...read('src/sim/mod.rs').matchAll(/Error::Io/g)].length;
  expect(io).toBeGreaterThan(0);
});

test('the model names of the app are the core’s (ModelSpec::NAMES), plus its committee', () => {
  const names = JSON.parse(/pub const NAMES: \[&'static str; \d+\] = (\[[^\]]*\]);/.exec(read('src/model/any.rs'))[1]);
  const menu = JSON.parse(/export const MODELS = (\[[^\]]*\]) as const;/.exec(read('www/app/settings.ts'))[1].replace(/'/g, '"'));
  expect(menu).toEqual([...names, 'committee']);
  const stored = /model: ((?:'\w+'(?: \| )?)+);/.exec(read('www/app/store/db.ts'))[1].split(' | ').map((s) => s.replace(/'/g, ''));
  expect(stored).toEqual(menu);
});

test('every Rust source file is under ~600 lines, or says at its top why not', () => {
  const long = [];
  for (const [, file] of rustModules('src')) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').length;
    const why = text.split('\n').slice(0, 40).some((l) => /^\/\/! Why one file of/.test(l));
    if (lines > 620 && !why) long.push(`${file}: ${lines} lines`);
  }
  expect(long).toEqual([]);
});

test('the app and the playground use the package only through its exports', () => {
  const pkg = JSON.parse(read('www/lib/package.json'));
  const exported = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? pkg.name : `${pkg.name}${k.slice(1)}`));
  // What tsc resolves by name is exactly what the package exports (Vite's aliases are
  // made from the same list in vite.config.ts).
  const tsconfig = read('tsconfig.json');
  const paths = Object.keys(JSON.parse(/"paths": (\{[^}]*\})/.exec(tsconfig)[1]));
  expect(paths.sort()).toEqual([...exported].sort());
  // No way around them: a relative import into the package or its wasm glue. (www/bench
  // compares the wasm builds with each other, so it loads both on purpose.)
  const bad = [];
  for (const [file, deps] of tsGraph('www')) {
    if (file.startsWith('lib/') || file.startsWith('bench/')) continue;
    for (const d of deps) if (d.startsWith('lib/')) bad.push(`${file} -> ${d}`);
    if (/['"](\.\.\/)+pkg\//.test(read(`www/${file}`))) bad.push(`${file} -> pkg/`);
  }
  expect(bad).toEqual([]);
});
