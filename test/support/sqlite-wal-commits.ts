import { readFileSync } from 'node:fs';

// The WAL file's layout (https://www.sqlite.org/fileformat.html#the_write_ahead_log): a 32-byte
// header, then frames of a 24-byte header and one page each.
const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/**
 * Transactions committed into the SQLite WAL file at `walPath` since it was last reset (by
 * `pragma wal_checkpoint(TRUNCATE)`, say): each commit's last frame records the database's size
 * after it; every other frame records 0. Frames left from before a reset carry the old salts
 * and are not counted. This counts commits however they were made, from outside the connection.
 */
export function sqliteWalCommits(walPath: string): number {
  let wal: Buffer;
  try {
    wal = readFileSync(walPath);
  } catch {
    return 0;
  }
  if (wal.length < WAL_HEADER) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salts = wal.subarray(16, 24);
  let commits = 0;
  for (
    let at = WAL_HEADER;
    at + FRAME_HEADER + pageSize <= wal.length;
    at += FRAME_HEADER + pageSize
  ) {
    if (!wal.subarray(at + 8, at + 16).equals(salts)) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits += 1;
  }
  return commits;
}
