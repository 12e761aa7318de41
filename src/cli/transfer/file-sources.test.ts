import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { csvRows, parseCsvLine } from './file-sources.ts';
import { MAX_LINE_BYTES, readLines, type Line } from './line-reader.ts';

/** `bytes` as a stream of chunks of `size` bytes: lines and characters split anywhere. */
function chunked(bytes: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

async function lines(input: Readable): Promise<Line[]> {
  const all: Line[] = [];
  for await (const line of readLines(input)) all.push(line);
  return all;
}

describe('readLines', () => {
  const text = '\uFEFFfirst\r\nzweite Zeile: äöü €\n\nlast without newline';
  for (const size of [1, 2, 3, 7, 1024]) {
    it(`splits lines the same whatever the chunks (${size} bytes)`, async () => {
      assert.deepEqual(await lines(chunked(Buffer.from(text), size)), [
        { line: 1, text: 'first' },
        { line: 2, text: 'zweite Zeile: äöü €' },
        { line: 3, text: '' },
        { line: 4, text: 'last without newline' },
      ]);
    });
  }

  it('reports a line past the bound and bad UTF-8 by number, and reads on', async () => {
    const input = Buffer.concat([
      Buffer.from('a\n'),
      Buffer.alloc(MAX_LINE_BYTES + 1, 0x78),
      Buffer.from('\n'),
      Buffer.from([0x62, 0xff, 0x0a]),
      Buffer.from('c'),
    ]);
    assert.deepEqual(await lines(chunked(input, 4096)), [
      { line: 1, text: 'a' },
      { line: 2, error: `line is longer than ${MAX_LINE_BYTES} bytes` },
      { line: 3, error: 'line is not valid UTF-8' },
      { line: 4, text: 'c' },
    ]);
  });
});

describe('CSV', () => {
  it('parses RFC 4180 quoting within a line', () => {
    assert.deepEqual(parseCsvLine('a,"b, c","say ""hi""",'), ['a', 'b, c', 'say "hi"', '']);
    assert.equal(parseCsvLine('"open'), 'unterminated quoted field');
    assert.equal(parseCsvLine('a"b,c'), 'a quote inside an unquoted field');
    assert.equal(
      parseCsvLine('"a"b'),
      'a quoted field must be followed by a comma or the line end',
    );
  });

  it('maps rows by the header, and reports a wrong field count by line', async () => {
    const rows = [];
    for await (const row of csvRows(
      Readable.from([Buffer.from('Email,password_hash\nx@example.com,h\n\ny@example.com\n')]),
    )) {
      rows.push(row);
    }
    assert.deepEqual(rows, [
      { line: 2, fields: { email: 'x@example.com', password_hash: 'h' } },
      { line: 4, error: 'CSV: 1 fields where the header has 2' },
    ]);
  });
});
