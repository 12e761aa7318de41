import { isEmailAddress } from '../email-address.ts';

/** What a failed login records in place of a username that is not an email address. */
export const NOT_AN_EMAIL = '[not an email address]';

/**
 * The username of a failed login as the audit log may keep it. ASVS 7.1.1 / CWE-532: people
 * type their password into the username field, so only what is an email address is stored
 * (trimmed, in the letter case tried); anything else becomes NOT_AN_EMAIL.
 */
export function usernameForAudit(username: string): string {
  return isEmailAddress(username) ? username.trim() : NOT_AN_EMAIL;
}
