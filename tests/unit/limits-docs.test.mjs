// The size limits are stated in two places a person reads: the data drop zone's hint
// (filled from limitsText at run time) and the user guide (docs/USER_GUIDE.md). Plain
// JavaScript (.mjs), outside tsc, which has no Node types here; Vitest runs it.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { limitsText } from '../../www/app/import-data';

test('the drop zone and the user guide state the same size limits (one source: limitsText)', () => {
  const guide = readFileSync(new URL('../../docs/USER_GUIDE.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const html = readFileSync(new URL('../../www/index.html', import.meta.url), 'utf8');
  const text = limitsText();
  const figures = text.match(/\d[\d,]*( MB)?/g);
  expect(figures).toEqual(['100,000', '65,536', '128 MB']);
  for (const figure of figures) expect(guide, `the user guide states ${figure}`).toContain(figure);
  // The hint is filled from limitsText: no figure of its own that could drift.
  expect(html).not.toMatch(/Up to \d+ MB/);
  expect(html).toContain('id="data-limits"');
});
