import { parseStoredHash } from '../passwords/hash-formats.ts';
import { isEmailAddress } from '../email-address.ts';
import { ROLES, type Role } from './user.ts';
import type { ImportedUser } from './user-transfer.ts';

/** The checks `gatehouse import` makes of each row (API.md 10), before anything is written. */

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

export type Checked = { user: ImportedUser; mfaDropped: boolean } | { reason: string };

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
