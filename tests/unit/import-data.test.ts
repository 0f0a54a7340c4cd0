import { describe, expect, test } from 'vitest';
import { buildDataProject, dataFormat, labelledRows, rowCap, suggest, withEmbeddings } from '../../www/app/import-data';
import type { Featurized } from '../../www/app/import-data';

function featurized(labels: (string | null)[] | null): Featurized {
  const n = labels?.length ?? 3;
  return {
    width: 2,
    features: Float32Array.from({ length: n * 2 }, (_, i) => i),
    lines: Array.from({ length: n }, (_, i) => i + 2),
    texts: Array.from({ length: n }, (_, i) => `text ${i}`),
    rows: null,
    columns: null,
    labels,
    snapshot: Uint8Array.from([1, 2]),
    dropped: [],
    skipped: [],
    leftOut: 0,
    countStopped: null,
    read: { bytes: 100, seconds: 0.01, wasmBytes: 1 << 20 },
  };
}

describe('data files', () => {
  test('the format comes from the extension; others are not data', () => {
    expect(['a.CSV', 'b.tsv', 'c.tab', 'd.jsonl', 'e.ndjson', 'f.txt', 'g.npy'].map(dataFormat)).toEqual(['csv', 'tsv', 'tsv', 'jsonl', 'jsonl', 'txt', 'npy']);
    expect(dataFormat('report.docx')).toBeNull();
    expect(dataFormat('noext')).toBeNull();
  });

  test('suggestions: label and text by name, tables of short cells, vectors of numbers', () => {
    expect(suggest('tsv', ['label', 'subject'], [['ham', 'Re: New Sequences Window']])).toEqual({ kind: 'text', text: 'subject', label: 'label' });
    const penguins = ['Species', 'Island', 'Beak Length (mm)', 'Sex'];
    expect(suggest('csv', penguins, [['Adelie', 'Torgersen', '39.1', 'MALE']])).toMatchObject({ kind: 'table', label: 'Species' });
    const vec = Array.from({ length: 9 }, (_, j) => `x${j}`);
    expect(suggest('csv', [...vec, 'label'], [[...vec.map(() => '0.5'), 'a']])).toMatchObject({ kind: 'table', label: 'label' });
    expect(suggest('npy', [], [])).toEqual({ kind: 'embedding', text: null, label: null });
  });
});

describe('featurized rows → project', () => {
  test('classes sorted from the label column; "labels" imports them, "classes" does not', () => {
    const f = featurized(['spam', 'ham', null]);
    const r = buildDataProject('p', 'mail.tsv', f, { name: 'Mail', kind: 'text', labelColumn: 'label', labels: 'labels' }, 7);
    expect(r.project).toMatchObject({ id: 'p', kind: 'text', classNames: ['ham', 'spam'], width: 2, sourceName: 'mail.tsv' });
    expect(Array.from(r.project.featurizer!)).toEqual([1, 2]);
    expect(r.samples.map((s) => [s.id, s.source, s.text])).toEqual([
      [0, 'mail.tsv:2', 'text 0'],
      [1, 'mail.tsv:3', 'text 1'],
      [2, 'mail.tsv:4', 'text 2'],
    ]);
    // Sample id i is row i of the stored features (one chunk here).
    expect(r.features.map((c) => [c.project, c.start, c.rows, c.width, Array.from(c.data)])).toEqual([['p', 0, 3, 2, [0, 1, 2, 3, 4, 5]]]);
    expect(r.labels).toEqual([
      { project: 'p', sampleId: 0, label: 1, labelledAt: 7, imported: true },
      { project: 'p', sampleId: 1, label: 0, labelledAt: 7, imported: true },
    ]);
    expect(r.notes).toEqual([]);
    expect(buildDataProject('p', 'm', f, { name: 'M', kind: 'text', labelColumn: 'label', labels: 'classes' }).labels).toEqual([]);
  });

  test('a label column with one value: imported unlabelled with that class, and said so', () => {
    const r = buildDataProject('p', 'm.csv', featurized(['spam', 'spam', 'spam']), { name: 'M', kind: 'text', labelColumn: 'label', labels: 'labels' });
    expect(r.project.classNames).toEqual(['spam']);
    expect(r.labels).toEqual([]);
    expect(r.notes[0]).toMatch(/only one value \(“spam”\): a classifier needs at least two classes, so the rows were imported unlabelled/);
  });

  test('held out: the chosen rows become a test set with their class; the rest is the pool, unlabelled', () => {
    const f = featurized(['b', 'a', null, 'b']);
    expect(labelledRows(f.labels!)).toEqual({ rows: [0, 1, 3], classes: Uint32Array.from([1, 0, 1]) });
    const r = buildDataProject('p', 'x.csv', f, { name: 'X', kind: 'table', labelColumn: 'y', labels: 'heldout' }, 1, new Set([3]));
    expect(r.samples.map((s) => [s.split, s.truth])).toEqual([['pool', null], ['pool', null], ['pool', null], ['test', 1]]);
    expect(r.labels).toEqual([]);
    expect(r.notes).toEqual(['1 labelled rows (20% of each class) are held out to measure accuracy; you label the other 3.']);
  });
});

describe('row cap of a streamed import', () => {
  test('tables keep 100,000 rows; text and wide vectors as many as fit in 64 M values', () => {
    expect(rowCap({ kind: 'table', featureColumns: ['a', 'b'] })).toEqual({ rows: 100_000, why: '100,000 samples per project' });
    const text = rowCap({ kind: 'text' });
    expect(text.rows).toBe(65_536);
    expect(text.why).toBe('65,536 texts per project: up to 1,024 TF-IDF features each, and 67,108,864 values are kept in memory while you label');
    expect(rowCap({ kind: 'embedding', featureColumns: Array.from({ length: 512 }, (_, i) => `x${i}`) }).rows).toBe(100_000);
    const wide = rowCap({ kind: 'embedding', featureColumns: Array.from({ length: 1000 }, (_, i) => `x${i}`) });
    expect(wide.rows).toBe(67_108);
    expect(wide.why).toMatch(/^67,108 vectors of 1,000 values per project/);
  });
});

describe('words and meaning', () => {
  test('each row is its TF-IDF block, then its embedding; the input is left as it was', () => {
    const f = featurized(null);
    const emb = Float32Array.from([10, 11, 12, 13, 14, 15]);
    const g = withEmbeddings(f, emb, 2);
    expect(g.width).toBe(4);
    expect(Array.from(g.features)).toEqual([0, 1, 10, 11, 2, 3, 12, 13, 4, 5, 14, 15]);
    expect(f.width).toBe(2);
    expect(Array.from(f.features)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(() => withEmbeddings(f, emb.subarray(0, 4), 2)).toThrow(/expected 3 embeddings of 2 values, got 4/);
  });
});
