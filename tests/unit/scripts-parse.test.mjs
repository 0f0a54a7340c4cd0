// The benchmark and build scripts are not run by `npm test` (benchmarks take minutes), so a
// syntax slip in one would go unseen until someone needs its figures: check each parses.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';

const dirs = ['bench', 'scripts'];
const files = dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.mjs')).map((f) => `${d}/${f}`));

describe('node scripts parse', () => {
  test('there are scripts to check', () => {
    expect(files).toContain('bench/latency.mjs');
    expect(files).toContain('scripts/bench.mjs');
  });
  test.each(files)('%s', (f) => {
    // Throws with node's message (file, line, what) when the file does not parse.
    execFileSync(process.execPath, ['--check', f], { stdio: 'pipe' });
  });
});
