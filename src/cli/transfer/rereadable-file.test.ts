import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  ImportSourceChangedError,
  type ImportSource,
  type SourceRow,
} from '../../domain/accounts/import-users.ts';
import { rereadableFile } from './rereadable-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-rereadable-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(source: ImportSource): Promise<SourceRow[]> {
  const rows: SourceRow[] = [];
  for await (const row of source.read()) rows.push(row);
  return rows;
}

describe('a file read twice by an import', () => {
  it('gives the same rows on each read, CSV or JSONL', async () => {
    const csv = join(dir, 'same.csv');
    writeFileSync(csv, 'email,password_hash\na@example.com,h\n');
    const source = rereadableFile(csv, 'csv');
    const first = await readAll(source);
    assert.deepEqual(first, [{ line: 2, fields: { email: 'a@example.com', password_hash: 'h' } }]);
    assert.deepEqual(await readAll(source), first);
  });

  it('refuses the second read, before handing out a row, when the file changed in between', async () => {
    const jsonl = join(dir, 'grown.jsonl');
    writeFileSync(jsonl, '{"email":"a@example.com","password_hash":"h"}\n');
    const grown = rereadableFile(jsonl, 'jsonl');
    await readAll(grown);
    appendFileSync(jsonl, '{"email":"b@example.com","password_hash":"h"}\n');
    await assert.rejects(readAll(grown), (error: unknown) => {
      assert.ok(error instanceof ImportSourceChangedError);
      assert.match(error.message, /changed since it was checked.*nothing was written/);
      return true;
    });

    // The same size, only a later modification time (an edit of one character, say).
    const touched = rereadableFile(jsonl, 'jsonl');
    await readAll(touched);
    utimesSync(jsonl, new Date(), new Date(Date.now() + 5000));
    await assert.rejects(readAll(touched), ImportSourceChangedError);
  });
});
