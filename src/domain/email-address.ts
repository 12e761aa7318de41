import { GatehouseError } from './errors.ts';

// A pragmatic address check (the WHATWG `input type=email` rule plus a dotted domain):
// it refuses what is clearly not an address without pretending to implement RFC 5322.
const EMAIL_PATTERN =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;
// RFC 5321 4.5.3.1: 64 octets of local part, 254 for the whole path in practice.
const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;

/** Why `email` (already trimmed) is not an address we accept, or undefined when it is one. */
function emailProblem(email: string): string | undefined {
  const at = email.lastIndexOf('@');
  if (email.length > MAX_EMAIL_LENGTH) {
    return `Enter an email address of at most ${MAX_EMAIL_LENGTH} characters`;
  }
  if (at > MAX_LOCAL_PART_LENGTH) {
    return `Enter an email address with at most ${MAX_LOCAL_PART_LENGTH} characters before the @`;
  }
  return EMAIL_PATTERN.test(email) ? undefined : 'Enter an email address like name@example.com';
}

/**
 * Checks an address given at registration; returns it trimmed, as the user typed it. The 422
 * message is in plain words a person can act on, not a validator's.
 */
export function parseEmail(raw: string): string {
  const email = raw.trim();
  const problem = emailProblem(email);
  if (problem !== undefined) {
    throw new GatehouseError('invalid_input', problem, { field: 'email' });
  }
  return email;
}

/** True when `raw`, trimmed, is an address registration would accept. */
export function isEmailAddress(raw: string): boolean {
  return emailProblem(raw.trim()) === undefined;
}

/**
 * The form under which emails are unique and looked up: trimmed, Unicode-normalised and
 * lower-cased, so `Alice@Example.com` and `alice@example.com` are one account (API.md 1).
 */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}
