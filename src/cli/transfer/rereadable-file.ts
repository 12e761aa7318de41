import { open, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import {
  ImportSourceChangedError,
  type ImportSource,
  type SourceRow,
} from '../../domain/accounts/import-users.ts';
import { csvRows, jsonlRows } from './file-sources.ts';

/** What identifies one version of a file: replaced, grown, shrunk or written to, it differs. */
function versionOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/**
 * A JSONL or CSV file that `gatehouse import` reads twice (check, then insert): each read
 * opens it anew. The second open compares the file's identity, size and times with the
 * first's and throws ImportSourceChangedError when they differ, before anything is written;
 * an edit that keeps all of them is still caught row by row by the import's digests.
 */
export function rereadableFile(path: string, format: 'jsonl' | 'csv'): ImportSource {
  let first: string | undefined;
  return {
    async *read(): AsyncGenerator<SourceRow> {
      const file: FileHandle = await open(path, 'r');
      try {
        const version = versionOf(await file.stat());
        if (first === undefined) first = version;
        else if (version !== first) {
          throw new ImportSourceChangedError(
            `${path} changed since it was checked (its size or modification time); nothing ` +
              'was written: run the import again',
          );
        }
        const input = file.createReadStream({ autoClose: false });
        yield* format === 'csv' ? csvRows(input) : jsonlRows(input);
      } finally {
        await file.close();
      }
    },
  };
}
