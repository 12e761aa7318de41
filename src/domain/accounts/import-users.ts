import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import type { Clock } from '../clock.ts';
import { normalizeEmail } from '../email-address.ts';
import { checkRow, type Checked } from './check-import-row.ts';
import { EmailFingerprints } from './email-fingerprints.ts';
import {
  bufferedSource,
  ImportSourceChangedError,
  isImportSource,
  type ImportSource,
  type SourceRow,
} from './import-source.ts';
import type { ImportedUser, UserTransferRepository } from './user-transfer.ts';

export { checkRow } from './check-import-row.ts';
export { ImportSourceChangedError, type ImportSource, type SourceRow } from './import-source.ts';

/**
 * `gatehouse import` (API.md 10). Semantics, so that a failure never leaves a half import:
 * 1. Every row is read and checked first (email, hash format and bounds, role, flags, dates,
 *    duplicates within the source in any case). One bad row and nothing is written: the
 *    report names each bad row by line and reason. This pass keeps only a fingerprint per
 *    email (for duplicates), the capped problem list, and a digest per batch of rows.
 * 2. Then the source is read again from the start and users are inserted in batches as they
 *    are read, each one transaction and one statement that skips emails already present
 *    (ON CONFLICT DO NOTHING). A crash or lost connection mid-way leaves whole batches
 *    committed and none partial; running the same import again inserts exactly the rest.
 *    Existing users are never changed. Each batch of rows read again must match the digest
 *    of the first pass before any of it is written: a source changed between the passes
 *    stops the import (ImportSourceChangedError) with only whole, checked batches written.
 * Memory so stays flat however long the source, except for a source that can be read only
 * once (standard input), whose rows are kept for the second pass.
 */

export interface ImportOptions {
  dryRun: boolean;
  /**
   * A row with `mfa_enabled: true` is refused unless this is set: its TOTP secret is not in
   * the file, so the user would come in without their second factor (ASVS 2.8).
   */
  dropMfa: boolean;
  batchSize: number;
  /** Called after each batch with the users handled so far, for a progress line. */
  onProgress?: (done: number, total: number) => void;
  /** What the source was, for the audit entry: `jsonl`, `csv` or `fastapi`. */
  sourceKind: string;
}

export interface ImportProblem {
  line: number;
  reason: string;
}

export interface ImportReport {
  /** Valid rows whose email is not in the store (inserted, unless a dry run or refused). */
  new: number;
  /** Valid rows whose email already has an account: skipped. */
  existing: number;
  invalid: number;
  /** The first MAX_REPORTED problems, in line order. */
  problems: ImportProblem[];
  /** Users actually inserted (0 on a dry run or when any row was invalid). */
  inserted: number;
  /** Rows imported without their MFA (--drop-mfa). */
  mfaDropped: number;
  written: boolean;
}

// A million bad rows are reported by count; the first ones by line, which is what one fixes.
const MAX_REPORTED = 1000;

export interface ImportDeps {
  transfer: UserTransferRepository;
  clock: Clock;
  audit?: AuditLog;
}

interface CheckedRow {
  line: number;
  user: ImportedUser;
  mfa: boolean;
}

/** One batch's worth of checked rows, as the digest sees them (line and every field). */
function digestOf(users: readonly CheckedRow[]): string {
  const digest = createHash('sha256');
  for (const { line, user, mfa } of users) {
    digest.update(
      `${line}\0${user.email}\0${user.passwordHash}\0${user.role}\0${user.disabled}\0` +
        `${user.emailVerified}\0${user.createdAt.getTime()}\0${mfa}\n`,
    );
  }
  return digest.digest('base64');
}

/** Pass 1: every row checked, keeping per row only a fingerprint of its email. */
async function checkAll(
  deps: ImportDeps,
  source: ImportSource,
  options: ImportOptions,
  now: Date,
): Promise<{ report: ImportReport; digests: string[] }> {
  const report: ImportReport = {
    new: 0,
    existing: 0,
    invalid: 0,
    problems: [],
    inserted: 0,
    mfaDropped: 0,
    written: false,
  };
  const seen = new EmailFingerprints();
  const digests: string[] = [];
  let batch: CheckedRow[] = [];
  const problem = (line: number, reason: string) => {
    report.invalid++;
    if (report.problems.length < MAX_REPORTED) report.problems.push({ line, reason });
  };
  const endBatch = async () => {
    digests.push(digestOf(batch));
    const present = await deps.transfer.existingEmails(
      batch.map(({ user }) => normalizeEmail(user.email)),
    );
    report.existing += present.size;
    report.new += batch.length - present.size;
    batch = [];
  };
  for await (const row of source.read()) {
    const checked = check(row, now, options.dropMfa);
    if ('reason' in checked) {
      problem(row.line, checked.reason);
      continue;
    }
    const earlier = seen.firstLine(normalizeEmail(checked.user.email), row.line);
    if (earlier !== undefined) {
      problem(row.line, `duplicate email: the same address (in any case) as line ${earlier}`);
      continue;
    }
    if (checked.mfaDropped) report.mfaDropped++;
    batch.push({ line: row.line, user: checked.user, mfa: checked.mfaDropped });
    if (batch.length === options.batchSize) await endBatch();
  }
  if (batch.length > 0) await endBatch();
  return { report, digests };
}

function check(row: SourceRow, now: Date, dropMfa: boolean): Checked {
  return 'error' in row ? { reason: row.error } : checkRow(row.fields, now, dropMfa);
}

/** Pass 2: the source read again, each batch compared with pass 1's digest, then inserted. */
async function insertAll(
  deps: ImportDeps,
  source: ImportSource,
  options: ImportOptions,
  now: Date,
  checked: { report: ImportReport; digests: string[] },
): Promise<void> {
  const { report, digests } = checked;
  let batch: CheckedRow[] = [];
  let fresh: ImportedUser[] = [];
  let done = 0;
  const changed = (what: string) =>
    new ImportSourceChangedError(
      `the source changed since it was checked (${what}); ${report.inserted} users were ` +
        'imported before that, in whole batches exactly as checked: run the import again ' +
        'to check and import the rest',
      report.inserted,
    );
  const insert = async (users: ImportedUser[]) => {
    report.inserted += await deps.transfer.insertBatch(users, now);
    done += users.length;
    options.onProgress?.(done, report.new);
  };
  const endBatch = async () => {
    const expected = digests.shift();
    if (expected === undefined || digestOf(batch) !== expected) {
      throw changed(`line ${batch[0]!.line} to ${batch.at(-1)!.line} differ`);
    }
    // None present in pass 1 (a first import): no lookups. A user registered since is still
    // skipped by insertBatch (ON CONFLICT DO NOTHING), just counted in a batch.
    const present =
      report.existing === 0
        ? new Set<string>()
        : await deps.transfer.existingEmails(batch.map(({ user }) => normalizeEmail(user.email)));
    for (const { user } of batch) if (!present.has(normalizeEmail(user.email))) fresh.push(user);
    batch = [];
    while (fresh.length >= options.batchSize) {
      await insert(fresh.slice(0, options.batchSize));
      fresh = fresh.slice(options.batchSize);
    }
  };
  for await (const row of source.read()) {
    const again = check(row, now, options.dropMfa);
    if ('reason' in again) throw changed(`line ${row.line}: ${again.reason}`);
    batch.push({ line: row.line, user: again.user, mfa: again.mfaDropped });
    if (batch.length === options.batchSize) await endBatch();
  }
  if (batch.length > 0) await endBatch();
  if (digests.length > 0) throw changed('it has fewer rows');
  if (fresh.length > 0) await insert(fresh);
}

/**
 * Checks every row of `rows`, then (unless a dry run or any row is bad) reads them again and
 * imports the new users. A source that can be read only once is kept in memory.
 */
export async function importUsers(
  deps: ImportDeps,
  rows: ImportSource | AsyncIterable<SourceRow>,
  options: ImportOptions,
): Promise<ImportReport> {
  const now = deps.clock.now();
  const source = isImportSource(rows) ? rows : bufferedSource(rows);
  const checked = await checkAll(deps, source, options, now);
  const { report } = checked;
  if (options.dryRun || report.invalid > 0) return report;
  // Everyone already present (a re-run): nothing to insert, no second read.
  if (report.new > 0) await insertAll(deps, source, options, now, checked);
  report.written = true;
  if (deps.audit) {
    // One entry for the whole import: per-user entries would cost more than the import itself.
    await recordAuditEvent(
      { audit: deps.audit, clock: deps.clock },
      'users.imported',
      {
        actorId: null,
        subjectId: null,
        email: null,
        details: {
          source: options.sourceKind,
          inserted: report.inserted,
          existing: report.existing,
          mfa_dropped: report.mfaDropped,
        },
      },
      { ip: null, userAgent: 'gatehouse-cli' },
    );
  }
  return report;
}
