import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { toExportRecord } from '../domain/accounts/export-users.ts';
import {
  ImportSourceChangedError,
  type ImportReport,
  type ImportSource,
  type SourceRow,
} from '../domain/accounts/import-users.ts';
import { csvRows, jsonlRows } from './transfer/file-sources.ts';
import {
  FASTAPI_DEFAULTS,
  FastapiSourceError,
  fastapiSource,
  type FastapiTable,
} from './transfer/fastapi-source.ts';
import { rereadableFile } from './transfer/rereadable-file.ts';
import type { WithServices } from './users.ts';

// One INSERT of this many rows per transaction: few commits (each an fsync), SQLite's write
// lock held about 0.1 s at a time (a server on the same file keeps serving), and well within
// both stores' bound-parameter limits (7 per row).
const DEFAULT_BATCH = 2000;
const EXPORT_PAGE = 1000;
// ASVS 4.0 14.1.3 / CWE-276: the export holds every password hash; only the owner may read it.
const PRIVATE_FILE = 0o600;

interface ImportCommandOptions {
  format?: 'jsonl' | 'csv';
  fromFastapi?: string;
  table: string;
  emailColumn: string;
  hashColumn: string;
  activeColumn: string;
  createdColumn?: string;
  adminColumn?: string;
  dryRun?: boolean;
  dropMfa?: boolean;
  batchSize: number;
}

function parseBatchSize(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 4000) {
    throw new InvalidArgumentError('expected a whole number from 1 to 4000');
  }
  return n;
}

class ImportInputError extends Error {}

function openSource(
  source: string | undefined,
  options: ImportCommandOptions,
): { rows: ImportSource | AsyncIterable<SourceRow>; kind: string; unit: string } {
  const url =
    options.fromFastapi ??
    (source && /^(sqlite:|postgres(ql)?:\/\/)/.test(source) ? source : undefined);
  if (url !== undefined) {
    if (options.fromFastapi !== undefined && source !== undefined) {
      throw new ImportInputError('give either FILE or --from-fastapi, not both');
    }
    const table: FastapiTable = {
      table: options.table,
      email: options.emailColumn,
      hash: options.hashColumn,
      active: options.activeColumn === '' ? undefined : options.activeColumn,
      createdAt: options.createdColumn,
      admin: options.adminColumn,
    };
    return { rows: fastapiSource(url, table), kind: 'fastapi', unit: 'row' };
  }
  if (source === undefined)
    throw new ImportInputError('give a FILE (JSONL or CSV) or --from-fastapi URL');
  const format = options.format ?? (/\.csv$/i.test(source) ? 'csv' : 'jsonl');
  if (source !== '-') return { rows: rereadableFile(source, format), kind: format, unit: 'line' };
  // Standard input can be read only once: the import keeps its rows in memory for the
  // second pass (a file is read twice instead, in flat memory).
  const input: Readable = process.stdin;
  return {
    rows: format === 'csv' ? csvRows(input) : jsonlRows(input),
    kind: format,
    unit: 'line',
  };
}

function printReport(report: ImportReport, unit: string, dryRun: boolean): void {
  for (const { line, reason } of report.problems) console.error(`${unit} ${line}: ${reason}`);
  if (report.invalid > report.problems.length) {
    console.error(`... and ${report.invalid - report.problems.length} more invalid ${unit}s`);
  }
  const counts = `${report.new} new, ${report.existing} existing, ${report.invalid} invalid`;
  if (report.invalid > 0) {
    console.log(
      `import: ${counts}; nothing was imported (fix the ${unit}s above and run it again)`,
    );
  } else if (dryRun) {
    console.log(`import (dry run, nothing written): ${counts}`);
  } else {
    const dropped =
      report.mfaDropped > 0 ? `; ${report.mfaDropped} without their MFA (--drop-mfa)` : '';
    console.log(
      `import: ${report.inserted} imported, ${report.existing + report.new - report.inserted} ` +
        `already present, 0 invalid${dropped}`,
    );
  }
}

async function writeChunk(out: Writable, text: string): Promise<void> {
  // Backpressure: wait for the file or pipe to take what it has before producing more.
  if (!out.write(text)) await once(out, 'drain');
}

async function closeStream(out: WriteStream): Promise<void> {
  out.end();
  await once(out, 'close');
}

/** `gatehouse import` and `gatehouse export` (API.md 10). */
export function registerTransferCommands(program: Command, withServices: WithServices): void {
  program
    .command('import')
    .description(
      'import users from JSONL, CSV or a FastAPI app database, keeping their password hashes',
    )
    .argument(
      '[FILE]',
      'a JSONL or CSV file (read twice: checked, then imported; - for standard input, held ' +
        'in memory), or a sqlite:/postgres:// URL',
    )
    .addOption(
      new Option('--format <format>', 'the file format (default: from the extension)').choices([
        'jsonl',
        'csv',
      ]),
    )
    .option('--from-fastapi <url>', "a FastAPI app's database: sqlite:PATH or postgres://...")
    .option('--table <name>', 'with --from-fastapi: the users table', FASTAPI_DEFAULTS.table)
    .option(
      '--email-column <name>',
      'with --from-fastapi: the email column',
      FASTAPI_DEFAULTS.email,
    )
    .option(
      '--hash-column <name>',
      'with --from-fastapi: the password hash column',
      FASTAPI_DEFAULTS.hash,
    )
    .option(
      '--active-column <name>',
      "with --from-fastapi: the boolean 'is active' column ('' if none)",
      FASTAPI_DEFAULTS.active,
    )
    .option(
      '--created-column <name>',
      'with --from-fastapi: the creation time column (default: created_at if present)',
    )
    .option(
      '--admin-column <name>',
      'with --from-fastapi: a boolean column that makes admins (e.g. is_superuser)',
    )
    .option('--dry-run', 'check everything and report the counts; write nothing')
    .option('--drop-mfa', 'import users with mfa_enabled: true without MFA (they must enrol again)')
    .option('--batch-size <n>', 'users per INSERT and transaction', parseBatchSize, DEFAULT_BATCH)
    .action(async (file: string | undefined, options: ImportCommandOptions, command: Command) => {
      let source;
      try {
        source = openSource(file, options);
      } catch (error) {
        if (error instanceof ImportInputError) command.error(`error: ${error.message}`);
        throw error;
      }
      const progress = process.stderr.isTTY
        ? (done: number, total: number) => process.stderr.write(`\rimporting: ${done}/${total}`)
        : undefined;
      let report: ImportReport;
      try {
        report = await withServices((services) =>
          services.importUsers(source.rows, {
            dryRun: options.dryRun ?? false,
            dropMfa: options.dropMfa ?? false,
            batchSize: options.batchSize,
            onProgress: progress,
            sourceKind: source.kind,
          }),
        );
      } catch (error) {
        if (error instanceof FastapiSourceError || error instanceof ImportSourceChangedError) {
          command.error(`error: ${error.message}`);
        }
        throw error;
      } finally {
        if (progress) process.stderr.write('\n');
      }
      printReport(report, source.unit, options.dryRun ?? false);
      if (report.invalid > 0) process.exitCode = 1;
    });

  program
    .command('export')
    .description('write every user, password hash included, as JSONL (what import reads)')
    .option('--out <file>', 'a new file, created mode 0600 (default: standard output)')
    .action(async (options: { out?: string }) => {
      // 'wx': never overwrite (or follow a planted symlink to) an existing file; the mode is
      // given at creation, so the file is never readable by others, even for an instant.
      const out = options.out
        ? createWriteStream(options.out, { flags: 'wx', mode: PRIVATE_FILE })
        : undefined;
      if (out) await once(out, 'open');
      const target: Writable = out ?? process.stdout;
      let count = 0;
      let complete = false;
      try {
        await withServices(async (services) => {
          let chunk = '';
          for await (const user of services.exportUsers(EXPORT_PAGE)) {
            chunk += `${JSON.stringify(toExportRecord(user))}\n`;
            if (++count % EXPORT_PAGE === 0) {
              await writeChunk(target, chunk);
              chunk = '';
            }
          }
          if (chunk !== '') await writeChunk(target, chunk);
        });
        complete = true;
      } finally {
        if (out) await closeStream(out);
        // A partial export could pass for a whole one: remove it.
        if (out && !complete) await rm(options.out!, { force: true });
      }
      if (out) console.error(`export: ${count} users written to ${options.out}`);
    });
}
