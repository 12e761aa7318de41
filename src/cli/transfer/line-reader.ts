import type { Readable } from 'node:stream';

/** One line of a file: its number (1-based) and text, or why it could not be read. */
export type Line = { line: number; text: string } | { line: number; error: string };

// No account needs more: an email is at most 254 characters and a hash a few hundred.
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Splits a byte stream into lines (\n or \r\n) without ever holding more than
 * MAX_LINE_BYTES of one (CWE-400: a hostile file of one 10 GB line). A longer line, or one
 * that is not valid UTF-8, becomes an error for that line and reading goes on.
 */
export async function* readLines(input: Readable): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let lineNumber = 1;
  const finish = (): Line => {
    const line = lineNumber++;
    if (tooLong) return { line, error: `line is longer than ${MAX_LINE_BYTES} bytes` };
    let bytes = Buffer.concat(parts, size);
    if (bytes.at(-1) === 0x0d) bytes = bytes.subarray(0, -1);
    try {
      // The byte-order mark a spreadsheet may write goes on the first line only.
      const text = decoder.decode(bytes);
      return { line, text: line === 1 ? text.replace(/^\uFEFF/, '') : text };
    } catch {
      return { line, error: 'line is not valid UTF-8' };
    }
  };
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      if (!tooLong) {
        if (size + end - start > MAX_LINE_BYTES) {
          tooLong = true;
          parts = [];
          size = 0;
        } else if (end > start) {
          parts.push(chunk.subarray(start, end));
          size += end - start;
        }
      }
      if (newline === -1) break;
      yield finish();
      parts = [];
      size = 0;
      tooLong = false;
      start = newline + 1;
    }
  }
  if (size > 0 || tooLong) yield finish();
}
