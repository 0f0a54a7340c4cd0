// The 200 MB CSV of the large-import test and benchmark (tests/e2e/app-import-large.test.mjs,
// bench/import-stream.mjs): a header, 100,000 short rows of which two are bad (one field too
// many, a Latin-1 byte), then rows in 3-row groups with a quoted comma and a quoted
// newline up to 200 MB, and last a row whose quote is never closed (it stops the count of
// the rows past the cap, not the import).
import { closeSync, openSync, writeSync } from 'node:fs';

export const CAP = 100_000;
/** Data row numbers of the two bad rows (their line is one more, after the header). */
export const WIDE_ROW = 99_990;
export const LATIN1_ROW = 99_995;
export const BIG_BYTES = 200 * 1024 * 1024;

/** Write the file at `path`; returns the rows counted past the cap, the Latin-1 byte's
 *  offset and the line of the unclosed quote (column 6). */
export function writeBigCsv(path) {
  const fd = openSync(path, 'w');
  let offset = 0;
  const put = (buf) => {
    writeSync(fd, buf);
    offset += buf.length;
  };
  put(Buffer.from('note,x,y,label\n'));
  let latin1Offset = -1;
  const rows = [];
  for (let i = 1; i <= CAP; i++) {
    if (i === WIDE_ROW) rows.push(Buffer.from('plain,1,2,a,extra\n'));
    else if (i === LATIN1_ROW) {
      // The é (0xE9, Latin-1) comes after the header, the rows before and "caf".
      latin1Offset = offset + rows.reduce((n, r) => n + r.length, 0) + 3;
      rows.push(Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(',1,2,a\n')]));
    } else rows.push(Buffer.from(`plain,${i % 1000},${(i * 7) % 13},${'abc'[i % 3]}\n`));
  }
  put(Buffer.concat(rows));
  // The rest: 3-row groups, one with a quoted comma, one with a quoted newline.
  const group = 'plain,1,2,a\n"with, comma",3,4,b\n"two\nlines",5,6,c\n';
  const block = Buffer.from(group.repeat(200_000));
  const groupsPerBlock = 200_000;
  let more = 0;
  while (offset + block.length <= BIG_BYTES) {
    put(block);
    more += 3 * groupsPerBlock;
  }
  // Up to exactly 200 MB with whole groups, the last row without a final newline.
  const left = BIG_BYTES - offset;
  const groups = Math.floor(left / group.length);
  put(Buffer.from(group.repeat(groups)));
  more += 3 * groups;
  // Lines: the header, CAP rows, then 4 per group (one row holds a newline).
  const brokenLine = 1 + CAP + 1 + (4 * more) / 3;
  put(Buffer.from('last,"never closed,1,a\n'));
  closeSync(fd);
  return { leftOut: more, latin1Offset, brokenLine };
}

