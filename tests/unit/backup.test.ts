import { describe, expect, test } from 'vitest';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { makeBackup, readBackup } from '../../www/app/backup';
import { featureChunks } from '../../www/app/store/db';

const project = {
  id: 'a', name: 'cats', kind: 'image' as const, classNames: ['cat', 'dog'], width: 2, height: 1, channels: 1 as const,
  createdAt: 5, current: 1, history: [{ labels: 2, accuracy: 0.5 }],
};
const samples = [
  { project: 'a', id: 1, pixels: Uint8Array.from([1, 2]), truth: null, split: 'pool' as const, source: 'x/1.png', file: new Blob([Uint8Array.from([9, 8, 7])], { type: 'image/png' }) },
  { project: 'a', id: 0, pixels: Uint8Array.from([3, 4]), truth: 1, split: 'test' as const, source: null },
];
const labels = [{ project: 'a', sampleId: 1, label: 1, labelledAt: 123 }];

describe('backup', () => {
  test('round trip: every field back, under the new project id', async () => {
    const r = readBackup(await makeBackup(project, samples, labels), 'b');
    expect(r.project).toEqual({ ...project, id: 'b' });
    expect(r.labels).toEqual([{ ...labels[0], project: 'b' }]);
    const byId = new Map(r.samples.map((s) => [s.id, s]));
    expect(Array.from(byId.get(0)!.pixels!)).toEqual([3, 4]);
    expect(byId.get(0)).not.toHaveProperty('file');
    expect(byId.get(0)!.truth).toBe(1);
    const f = byId.get(1)!.file!;
    expect(f.type).toBe('image/png');
    expect(Array.from(new Uint8Array(await f.arrayBuffer()))).toEqual([9, 8, 7]);
    expect(byId.get(1)!.source).toBe('x/1.png');
  });

  test('damaged or foreign files are refused with the reason, before anything is stored', async () => {
    expect(() => readBackup(strToU8('hello'), 'b')).toThrow(/not a Marginalia backup: the file is not a zip/);
    expect(() => readBackup(zipSync({ 'a.txt': strToU8('x') }), 'b')).toThrow(/marginalia-backup.json or pixels.bin is missing/);
    const good = unzipSync(await makeBackup(project, samples, labels));
    expect(() => readBackup(zipSync({ ...good, 'pixels.bin': new Uint8Array(3) }), 'b')).toThrow(/pixels.bin has 3 bytes, expected 2 × 2/);
    const { 'files/1': _, ...noFile } = good;
    expect(() => readBackup(zipSync(noFile), 'b')).toThrow(/files\/1 is missing/);
  });
});

describe('backup of text and table projects (version 2)', () => {
  const text = {
    id: 't', name: 'mail', kind: 'text' as const, classNames: ['ham', 'spam'], width: 3, height: 1, channels: 1 as const,
    createdAt: 5, current: 0, history: [], sourceName: 'mail.tsv', featurizer: Uint8Array.from([7, 7, 1]),
  };
  const samples = [
    { project: 't', id: 0, text: 'free money', truth: null, split: 'pool' as const, source: 'mail.tsv:2' },
    { project: 't', id: 1, text: 'Re: lunch', truth: null, split: 'pool' as const, source: 'mail.tsv:3' },
  ];
  const chunks = featureChunks('t', Float32Array.from([0.25, -1.5, 3e-8, 1, 0, 0]), 3);
  test('text, features (bit for bit), featurizer snapshot and labels come back', async () => {
    const r = readBackup(await makeBackup(text, samples, [{ project: 't', sampleId: 0, label: 1, labelledAt: 9 }], chunks), 'u');
    expect(r.project).toEqual({ ...text, id: 'u' });
    expect(r.samples).toEqual(samples.map((s) => ({ ...s, project: 'u' })));
    expect(r.features).toEqual(chunks.map((c) => ({ ...c, project: 'u' })));
    expect(r.labels).toEqual([{ project: 'u', sampleId: 0, label: 1, labelledAt: 9 }]);
  });
  test('a table row with a missing cell comes back; missing or damaged features are refused', async () => {
    const table = { ...text, kind: 'table' as const, columns: ['a', 'b'], width: 1, featurizer: null };
    const rows = [{ project: 't', id: 0, row: ['x', null], truth: null, split: 'pool' as const, source: 'p.csv:2' }];
    const zip = await makeBackup(table, rows, [], featureChunks('t', Float32Array.from([2]), 1));
    expect(readBackup(zip, 'v').samples[0].row).toEqual(['x', null]);
    const entries = unzipSync(zip);
    expect(() => readBackup(zipSync({ ...entries, 'features.bin': new Uint8Array(3) }), 'v')).toThrow(/features.bin has 3 bytes, expected 1 × 1 × 4/);
    await expect(makeBackup(table, rows, [])).rejects.toThrow(/sample 0 has no stored features/);
  });
});
