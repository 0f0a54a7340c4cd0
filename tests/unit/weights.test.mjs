// Every committed weight file matches the size and sha256 that weights/README.md gives
// for it: a damaged or silently remade file fails here, not as odd embeddings later.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '..', '..', 'weights');
const rows = readFileSync(join(dir, 'README.md'), 'utf8')
  .split('\n')
  .map((l) => l.split('|').map((c) => c.trim()))
  .filter((c) => c.length > 5 && /\.safetensors$/.test(c[1]));

describe('weights/', () => {
  it('lists every weight file in its README', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();
    expect(rows.map((r) => r[1]).sort()).toEqual(files);
  });
  for (const [, file, , bytes, sha] of rows) {
    it(`${file} has the listed size and sha256`, () => {
      const data = readFileSync(join(dir, file));
      expect(data.length).toBe(Number(bytes.replaceAll(',', '')));
      expect(createHash('sha256').update(data).digest('hex')).toBe(sha);
    });
  }
});
