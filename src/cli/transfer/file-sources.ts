import type { Readable } from 'node:stream';
import type { SourceRow } from '../../domain/accounts/import-users.ts';
import { readLines } from './line-reader.ts';

// The columns of API.md 10; anything else in a CSV header is a mistake worth stopping for.
export const IMPORT_FIELDS = [
  'email',
  'password_hash',
  'role',
  'disabled',
  'email_verified',
  'created_at',
  'mfa_enabled',
] as const;
const REQUIRED = ['email', 'password_hash'];

/** JSON Lines: one object per line; blank lines are skipped. */
export async function* jsonlRows(input: Readable): AsyncGenerator<SourceRow> {
  for await (const read of readLines(input)) {
    if ('error' in read) {
      yield read;
      continue;
    }
    if (read.text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(read.text);
    } catch {
      yield { line: read.line, error: 'not a JSON object (invalid JSON)' };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield { line: read.line, error: 'not a JSON object' };
      continue;
    }
    yield { line: read.line, fields: value as Record<string, unknown> };
  }
}

/**
 * One CSV record of one line (RFC 4180 quoting: "a, b" and "" for a quote). A record never
 * spans lines here: no field of an account may contain a line break.
 */
export function parseCsvLine(text: string): string[] | string {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote === -1) return 'unterminated quoted field';
        value += text.slice(i, quote);
        if (text[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text[i] !== ',') return 'a quoted field must be followed by a comma or the line end';
      i++;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma === -1 ? text.length : comma;
      const value = text.slice(i, end);
      if (value.includes('"')) return 'a quote inside an unquoted field';
      fields.push(value);
      if (comma === -1) return fields;
      i = comma + 1;
    }
  }
}

/** CSV with a header row naming the columns (email and password_hash required). */
export async function* csvRows(input: Readable): AsyncGenerator<SourceRow> {
  let header: string[] | undefined;
  for await (const read of readLines(input)) {
    if ('error' in read) {
      yield read;
      if (!header) return;
      continue;
    }
    if (read.text.trim() === '') continue;
    const cells = parseCsvLine(read.text);
    if (typeof cells === 'string') {
      yield { line: read.line, error: `CSV: ${cells}` };
      if (!header) return;
      continue;
    }
    if (!header) {
      const names = cells.map((cell) => cell.trim().toLowerCase());
      const unknown = names.filter((name) => !(IMPORT_FIELDS as readonly string[]).includes(name));
      const missing = REQUIRED.filter((name) => !names.includes(name));
      if (unknown.length > 0 || missing.length > 0 || new Set(names).size !== names.length) {
        yield {
          line: read.line,
          error:
            `CSV header must name the columns once each, from ${IMPORT_FIELDS.join(', ')} ` +
            `(email and password_hash required)`,
        };
        return;
      }
      header = names;
      continue;
    }
    if (cells.length !== header.length) {
      yield {
        line: read.line,
        error: `CSV: ${cells.length} fields where the header has ${header.length}`,
      };
      continue;
    }
    yield {
      line: read.line,
      fields: Object.fromEntries(header.map((name, i) => [name, cells[i]])),
    };
  }
  if (!header) yield { line: 1, error: 'CSV: no header row (email,password_hash,...)' };
}
