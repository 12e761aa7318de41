import type { AuditLog } from '../audit/audit-log.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import type { Clock } from '../clock.ts';
import { parseStoredHash } from '../passwords/hash-formats.ts';
import { isEmailAddress, normalizeEmail } from '../email-address.ts';
import { ROLES, type Role } from './user.ts';
import type { ImportedUser, UserTransferRepository } from './user-transfer.ts';

/**
 * `gatehouse import` (API.md 10). Semantics, so that a failure never leaves a half import:
 * 1. Every row is read and checked first (email, hash format and bounds, role, flags, dates,
 *    duplicates within the source in any case). One bad row and nothing is written: the
 *    report names each bad row by line and reason.
 * 2. Then users are inserted in batches, each one transaction and one statement that skips
 *    emails already present (ON CONFLICT DO NOTHING). A crash or lost connection mid-way
 *    leaves whole batches committed and none partial; running the same import again
 *    inserts exactly the rest. Existing users are never changed.
 */

/** One record read from a source: its line (1-based) and its fields, or why it is unreadable. */
export type SourceRow =
  { line: number; fields: Readonly<Record<string, unknown>> } | { line: number; error: string };

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
const BOOLEAN_TEXT: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
};

function readBoolean(value: unknown, name: string, fallback: boolean): boolean | string {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && (value === 0 || value === 1)) return value === 1;
  if (typeof value === 'string' && value.toLowerCase() in BOOLEAN_TEXT) {
    return BOOLEAN_TEXT[value.toLowerCase()]!;
  }
  return `${name} must be true or false`;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

function readTime(value: unknown, now: Date): Date | string {
  if (value === undefined || value === null || value === '') return now;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  if (typeof value !== 'string' || !ISO_TIME.test(value)) {
    return 'created_at must be an ISO 8601 time such as 2024-01-31T12:00:00Z';
  }
  // A time without a zone is read as UTC (SQLAlchemy's DateTime stores naive UTC times).
  const zoned = /(Z|[+-]\d{2}(:?\d{2})?)$/.test(value) ? value : `${value}Z`;
  const date = new Date(zoned.replace(' ', 'T'));
  if (Number.isNaN(date.getTime()) || date.getTime() > now.getTime() + 86_400_000) {
    return 'created_at is not a real time, or lies in the future';
  }
  return date;
}

type Checked = { user: ImportedUser; mfaDropped: boolean } | { reason: string };

/** Checks one row's fields; the reason never quotes the hash (it is a secret). */
export function checkRow(
  fields: Readonly<Record<string, unknown>>,
  now: Date,
  dropMfa: boolean,
): Checked {
  const { email, password_hash: hash, role = 'user' } = fields;
  if (typeof email !== 'string' || email.trim() === '') return { reason: 'email is missing' };
  // OWASP "CSV Injection": a cell starting with = + - @ is a formula to a spreadsheet, where
  // user lists often end up; no real address needs to start so.
  if (/^\s*[=+\-@]/.test(email)) {
    return { reason: 'email starts with a spreadsheet formula character (= + - @)' };
  }
  if (!isEmailAddress(email)) return { reason: 'email is not a valid email address' };
  if (typeof hash !== 'string' || hash === '') return { reason: 'password_hash is missing' };
  const parsed = parseStoredHash(hash);
  if (!parsed.ok) return { reason: `password_hash refused: ${parsed.reason}` };
  const chosenRole = role === '' || role === null ? 'user' : role;
  if (typeof chosenRole !== 'string' || !(ROLES as readonly string[]).includes(chosenRole)) {
    return { reason: `role must be one of ${ROLES.join(', ')}` };
  }
  const disabled = readBoolean(fields.disabled, 'disabled', false);
  if (typeof disabled === 'string') return { reason: disabled };
  const verified = readBoolean(fields.email_verified, 'email_verified', false);
  if (typeof verified === 'string') return { reason: verified };
  const mfa = readBoolean(fields.mfa_enabled, 'mfa_enabled', false);
  if (typeof mfa === 'string') return { reason: mfa };
  if (mfa && !dropMfa) {
    return {
      reason:
        'mfa_enabled is true but the TOTP secret cannot be imported; pass --drop-mfa to import ' +
        'the user without MFA (they must enrol again)',
    };
  }
  const createdAt = readTime(fields.created_at, now);
  if (typeof createdAt === 'string') return { reason: createdAt };
  return {
    user: {
      email: email.trim(),
      passwordHash: hash,
      role: chosenRole as Role,
      disabled,
      emailVerified: verified,
      createdAt,
    },
    mfaDropped: mfa,
  };
}

export interface ImportDeps {
  transfer: UserTransferRepository;
  clock: Clock;
  audit?: AuditLog;
}

/** Checks every row of `rows`, then (unless a dry run or any row is bad) imports the new users. */
export async function importUsers(
  deps: ImportDeps,
  rows: AsyncIterable<SourceRow>,
  options: ImportOptions,
): Promise<ImportReport> {
  const now = deps.clock.now();
  const valid: ImportedUser[] = [];
  const firstLine = new Map<string, number>();
  const problems: ImportProblem[] = [];
  let invalid = 0;
  let mfaDropped = 0;
  const problem = (line: number, reason: string) => {
    invalid++;
    if (problems.length < MAX_REPORTED) problems.push({ line, reason });
  };
  for await (const row of rows) {
    if ('error' in row) {
      problem(row.line, row.error);
      continue;
    }
    const checked = checkRow(row.fields, now, options.dropMfa);
    if ('reason' in checked) {
      problem(row.line, checked.reason);
      continue;
    }
    const key = normalizeEmail(checked.user.email);
    const earlier = firstLine.get(key);
    if (earlier !== undefined) {
      problem(row.line, `duplicate email: the same address (in any case) as line ${earlier}`);
      continue;
    }
    firstLine.set(key, row.line);
    valid.push(checked.user);
    if (checked.mfaDropped) mfaDropped++;
  }
  const present = await deps.transfer.existingEmails([...firstLine.keys()]);
  const fresh = valid.filter((user) => !present.has(normalizeEmail(user.email)));
  const report: ImportReport = {
    new: fresh.length,
    existing: valid.length - fresh.length,
    invalid,
    problems,
    inserted: 0,
    mfaDropped,
    written: false,
  };
  if (options.dryRun || invalid > 0) return report;
  for (let i = 0; i < fresh.length; i += options.batchSize) {
    report.inserted += await deps.transfer.insertBatch(fresh.slice(i, i + options.batchSize), now);
    options.onProgress?.(Math.min(i + options.batchSize, fresh.length), fresh.length);
  }
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
          mfa_dropped: mfaDropped,
        },
      },
      { ip: null, userAgent: 'gatehouse-cli' },
    );
  }
  return report;
}
