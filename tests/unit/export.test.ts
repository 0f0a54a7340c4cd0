import { describe, expect, test } from 'vitest';
import { csvCell, dataColumns, labelRows, safeName, toCsv, toJsonl } from '../../www/app/export';
import { folderClasses, triage } from '../../www/app/import';

describe('CSV against formula injection', () => {
  test.each([
    ['=1+1', "'=1+1"],
    ['+SUM(A1)', "'+SUM(A1)"],
    ['-2', "'-2"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['=HYPERLINK("http://x","a,b")', `"'=HYPERLINK(""http://x"",""a,b"")"`],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
  ])('%j → %j', (v, want) => {
    expect(csvCell(v)).toBe(want);
  });
  test('numbers and empty values are written as they are', () => {
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(null)).toBe('');
  });
  test('a whole file: header, one row per label in sample order, ISO times', () => {
    const project = { id: 'p', name: 'x', kind: 'image' as const, classNames: ['=cat', 'dog'], width: 1, height: 1, channels: 1 as const, createdAt: 0, current: null, history: [] };
    const samples = [
      { project: 'p', id: 2, pixels: new Uint8Array(1), truth: null, split: 'pool' as const, source: 'a/@b.png' },
      { project: 'p', id: 1, pixels: new Uint8Array(1), truth: null, split: 'pool' as const, source: null },
    ];
    const labels = [
      { project: 'p', sampleId: 2, label: 0, labelledAt: Date.UTC(2026, 0, 2) },
      { project: 'p', sampleId: 1, label: 1, labelledAt: Date.UTC(2026, 0, 1) },
    ];
    const rows = labelRows(project, samples, labels);
    expect(toCsv(rows)).toBe(
      'sample_id,source,label,labelled_at\r\n1,,dog,2026-01-01T00:00:00.000Z\r\n2,a/@b.png,\'=cat,2026-01-02T00:00:00.000Z\r\n',
    );
    expect(toJsonl(rows).split('\n')[1]).toBe('{"id":2,"source":"a/@b.png","label":"=cat","labelled_at":"2026-01-02T00:00:00.000Z"}');
  });
});

describe('text and table exports carry the sample', () => {
  const base = { id: 'p', name: 'x', classNames: ['ham', 'spam'], width: 3, height: 1, channels: 1 as const, createdAt: 0, current: null, history: [] };
  const at = Date.UTC(2026, 0, 1);
  test('text: a text column, and JSONL in the Prodigy shape', () => {
    const project = { ...base, kind: 'text' as const };
    const samples = [{ project: 'p', id: 0, text: 'Re: "hi", =you', truth: null, split: 'pool' as const, source: 'mail.tsv:2', features: new Float32Array(3) }];
    const rows = labelRows(project, samples, [{ project: 'p', sampleId: 0, label: 1, labelledAt: at }]);
    expect(toCsv(rows, dataColumns(project))).toBe(
      'sample_id,source,text,label,labelled_at\r\n0,mail.tsv:2,"Re: ""hi"", =you",spam,2026-01-01T00:00:00.000Z\r\n',
    );
    expect(JSON.parse(toJsonl(rows, dataColumns(project)))).toEqual({ id: 0, source: 'mail.tsv:2', text: 'Re: "hi", =you', label: 'spam', labelled_at: '2026-01-01T00:00:00.000Z' });
  });
  test('table: its columns, missing cells empty', () => {
    const project = { ...base, kind: 'table' as const, columns: ['Island', 'Mass (g)'] };
    const samples = [{ project: 'p', id: 4, row: ['Biscoe', null], truth: null, split: 'pool' as const, source: 'p.csv:6', features: new Float32Array(3) }];
    const rows = labelRows(project, samples, [{ project: 'p', sampleId: 4, label: 0, labelledAt: at }]);
    expect(toCsv(rows, dataColumns(project))).toBe('sample_id,source,Island,Mass (g),label,labelled_at\r\n4,p.csv:6,Biscoe,,ham,2026-01-01T00:00:00.000Z\r\n');
  });
});

test('zip names cannot escape their folder', () => {
  expect(safeName('../x/y', 'f')).toBe('.._x_y');
  expect(safeName('..', 'f')).toBe('f');
  expect(safeName('T-shirt/top', 'f')).toBe('T-shirt_top');
});

describe('ImageFolder: class from the folder holding the file', () => {
  test('the shared root folder is not a class', () => {
    expect(folderClasses(['root/cat/1.png', 'root/dog/2.png', 'root/3.png'])).toEqual(['cat', 'dog', null]);
  });
  test('files without folders have no class', () => {
    expect(folderClasses(['1.png', '2.png'])).toEqual([null, null]);
  });
  test('one folder only: it is the root, not a class', () => {
    expect(folderClasses(['cats/1.png', 'cats/2.png'])).toEqual([null, null]);
  });
  test('nested folders: the innermost is the class', () => {
    expect(folderClasses(['r/a/cat/1.png', 'r/b/dog/2.png'])).toEqual(['cat', 'dog']);
  });
});

test('triage reports empty files and formats it does not read, and skips dot files', () => {
  const f = (path: string, size: number) => ({ path, blob: new Blob([new Uint8Array(size)]) });
  const t = triage([f('a.png', 3), f('b.PNG', 0), f('c.txt', 3), f('d.csv', 3), f('.DS_Store', 3), f('e.jpeg', 1)]);
  expect(t.images.map((i) => i.path)).toEqual(['a.png', 'e.jpeg']);
  expect(t.skipped).toEqual([
    { path: 'b.PNG', reason: 'empty file (0 bytes)' },
    { path: 'c.txt', reason: '.txt is a data file, not an image: import it on its own under “New project from text, a table or embeddings”' },
    { path: 'd.csv', reason: '.csv is a data file, not an image: import it on its own under “New project from text, a table or embeddings”' },
  ]);
});
