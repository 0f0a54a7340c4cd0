// Import cycles between the Rust core's source files: each file is a module; an edge
// a → b when a names b through `crate::` or `super::` (in a `use` or a path). A parent
// declaring a child (`mod x;`) is not an edge. Prints each cycle; exits 1 if any.
// Run by Vitest (tests/unit/cycles.test.mjs) and by hand: node scripts/rust-cycles.mjs
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every .rs file under `dir` with its module path (src/a/b.rs → a::b, src/a/mod.rs → a). */
export function rustModules(root) {
  const out = new Map();
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.rs')) {
        const rel = relative(root, p).replace(/\.rs$/, '').split('/');
        if (rel[rel.length - 1] === 'mod' || rel[rel.length - 1] === 'lib') rel.pop();
        if (rel[0] === 'bin') continue; // binaries use the library; nothing uses them
        out.set(rel.join('::'), p);
      }
    }
  };
  walk(root);
  return out;
}

/** The module graph: module → set of modules it names. */
export function rustGraph(root) {
  const mods = rustModules(root);
  const graph = new Map();
  for (const [m, file] of mods) {
    // Comments and strings out: a doc comment naming `crate::x` is not a dependency.
    const src = readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '').replace(/"(\\.|[^"\\])*"/g, '""');
    const deps = new Set();
    const parent = m.split('::').slice(0, -1).join('::');
    const resolve = (path) => {
      // The longest prefix that is a module (crate::data::table::parse_csv → data::table).
      const parts = path.split('::').filter(Boolean);
      for (let k = parts.length; k > 0; k--) {
        const cand = parts.slice(0, k).join('::');
        if (mods.has(cand)) return cand;
      }
      return null;
    };
    const add = (path) => {
      const d = resolve(path);
      // A module naming its own descendants (through crate:: paths) is its own business.
      if (d && d !== m && !d.startsWith(`${m}::`)) deps.add(d);
    };
    for (const [, body] of src.matchAll(/\bcrate::((?:\w+::)*\w+)/g)) add(body);
    for (const [, body] of src.matchAll(/\bsuper::((?:\w+::)*\w+)/g)) {
      // `super::x` names the parent's item x, or the sibling module x.
      const sib = parent ? `${parent}::${body}` : body;
      const r = resolve(sib);
      if (r && r !== parent) add(sib);
      else if (parent && parent !== m) deps.add(parent);
    }
    // `use crate::{a::x, b::y}` groups.
    for (const [, group] of src.matchAll(/\buse crate::\{([^}]*)\}/g)) for (const item of group.split(',')) add(item.trim());
    graph.set(m, deps);
  }
  return graph;
}

/** Every elementary cycle's representative: strongly connected components with more than one module. */
export function cycles(graph) {
  let index = 0;
  const stack = [];
  const on = new Set();
  const idx = new Map();
  const low = new Map();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const found = cycles(rustGraph(process.argv[2] ?? 'src'));
  for (const c of found) console.log(`cycle: ${c.join(' ↔ ')}`);
  process.exit(found.length ? 1 : 0);
}
