// Import cycles between the front end's TypeScript modules (www/): an edge a → b when a
// imports b by a relative path (type-only imports included: they tie the designs together
// all the same). Prints each cycle; exits 1 if any. Run by Vitest
// (tests/unit/cycles.test.mjs) and by hand: node scripts/ts-cycles.mjs
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { cycles } from './rust-cycles.mjs';

export function tsGraph(root) {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (name === 'node_modules' || name === 'pkg') continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ts$/.test(name) && !name.endsWith('.d.ts')) files.push(p);
    }
  };
  walk(root);
  const graph = new Map();
  for (const f of files) {
    const src = readFileSync(f, 'utf8');
    const deps = new Set();
    for (const [, spec] of src.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
      const base = resolve(dirname(f), spec);
      const target = [`${base}.ts`, join(base, 'index.ts'), base].find((c) => existsSync(c) && statSync(c).isFile());
      if (target && /\.ts$/.test(target)) deps.add(relative(root, target));
    }
    graph.set(relative(root, f), deps);
  }
  return graph;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const found = cycles(tsGraph(process.argv[2] ?? 'www'));
  for (const c of found) console.log(`cycle: ${c.join(' ↔ ')}`);
  process.exit(found.length ? 1 : 0);
}
