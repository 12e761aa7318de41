/** One record read from a source: its line (1-based) and its fields, or why it is unreadable. */
export type SourceRow =
  { line: number; fields: Readonly<Record<string, unknown>> } | { line: number; error: string };

/**
 * Where `gatehouse import` reads users from. `read()` starts from the first row each time:
 * the import reads once to check every row and again to insert, so it never holds them all.
 * A source that can tell it changed since its first read (a file's size or modification time)
 * throws ImportSourceChangedError from the second `read()`, before anything is written.
 */
export interface ImportSource {
  read(): AsyncIterable<SourceRow>;
}

/** The source changed between the import's check and its insert (API.md 10). */
export class ImportSourceChangedError extends Error {
  /** Users inserted before the change was seen: whole batches, each exactly as checked. */
  readonly inserted: number;

  constructor(message: string, inserted = 0) {
    super(message);
    this.name = 'ImportSourceChangedError';
    this.inserted = inserted;
  }
}

/**
 * A source that can be read only once (standard input): its rows are kept in memory as the
 * first read hands them out, and the second read replays them. Memory then grows with the
 * source, as it did before imports took two passes; a file keeps it flat.
 */
export function bufferedSource(rows: AsyncIterable<SourceRow>): ImportSource {
  const kept: SourceRow[] = [];
  let consumed = false;
  return {
    async *read() {
      if (consumed) {
        yield* kept;
        return;
      }
      consumed = true;
      for await (const row of rows) {
        kept.push(row);
        yield row;
      }
    },
  };
}

export function isImportSource(
  source: ImportSource | AsyncIterable<SourceRow>,
): source is ImportSource {
  return typeof (source as Partial<ImportSource>).read === 'function';
}
