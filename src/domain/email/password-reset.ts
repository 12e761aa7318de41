import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { normalizeEmail } from '../email-address.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import { usernameForAudit } from '../audit/username-for-audit.ts';
import { GatehouseError, isGatehouseError } from '../errors.ts';
import { checkPasswordPolicy } from '../passwords/password-policy.ts';
import type { ClientInfo } from '../client-info.ts';
import { mailLink } from './mail-draft.ts';
import { expiresIn, invalidMailToken, type MailFlowDeps } from './mail-flow-deps.ts';
import { hashMailToken, isMailTokenShape, newMailToken } from './mail-token.ts';

// Which kind of work the timing floor learns: issuing a reset link (a transaction).
const ISSUE_RESET = 'issue_password_reset';

// Both paths answer no sooner than this many ms past the slowest typical issue, so each one
// sleeps: timer granularity (about 1 ms) then blurs both alike, while the work itself (a fraction
// of a millisecond on SQLite) stays hidden under the sleep.
const PAD_MS = 5;
// Headroom over the typical issue time, so a slower-than-usual issue still ends inside the pad.
const HEADROOM = 1.5;
// No account has this id (ids start at 1): the issue for an unknown address finds no user.
const NO_USER = 0;

/**
 * POST /password-reset (API.md 8). The caller answers the same 202 whatever happens here, so
 * the body and status say nothing; the timing doesn't either (CWE-204/208, ASVS 2.5.x): every
 * request does the same lookup, token generation, rendering, issuing transaction (which for an
 * unknown or disabled address finds no user and writes nothing) and audit write; the time of
 * that work is learned (FailureTimingFloor), and every answer, for any address, is held until a
 * fixed time past it has elapsed, so both answer after the same time.
 */
export async function requestPasswordReset(
  deps: MailFlowDeps,
  input: { email: string; client?: ClientInfo },
): Promise<void> {
  const started = performance.now();
  const { token, hash } = newMailToken();
  const found = await deps.users.findByEmail(normalizeEmail(input.email));
  const user = found && !found.disabled ? found : undefined;
  const now = deps.clock.now();
  // The same work for every address: render the message and run the issuing transaction. For
  // no (enabled) account it names a user id that can't exist, so it stores and queues nothing.
  const issued = await deps.resetTiming.measure(ISSUE_RESET, () =>
    deps.mailTokens.issue(
      {
        hash,
        userId: user?.id ?? NO_USER,
        purpose: 'password_reset',
        email: user?.email ?? input.email,
        createdAt: now,
        expiresAt: expiresIn(now, deps.resetTokenTtl),
      },
      [
        deps.renderMail({
          to: user?.email ?? input.email,
          template: 'password-reset',
          data: {
            email: user?.email ?? input.email,
            link: mailLink(deps.publicUrl, 'reset-password', token),
            expires_minutes: String(Math.round(deps.resetTokenTtl / 60)),
          },
        }),
      ],
    ),
  );
  // Then both answers wait until the same time past the start.
  await sleep(
    Math.max(0, deps.resetTiming.floorMs * HEADROOM + PAD_MS - (performance.now() - started)),
  );
  await recordAuditEvent(
    deps,
    'password.reset_requested',
    {
      subjectId: found?.id ?? null,
      email: found ? found.email : usernameForAudit(input.email),
      details: issued
        ? { sent: true }
        : { sent: false, reason: found ? 'disabled' : 'unknown_email' },
    },
    input.client,
  );
  // Only once this answer is on its way: the sender's work would otherwise slow this request
  // (and only requests for registered addresses).
  if (issued) setImmediate(deps.mailQueued);
}

/**
 * POST /password-reset/confirm (API.md 8): a live token first (400 otherwise), then the
 * password policy (422, the token stays usable), then one transaction that consumes the token,
 * stores the new hash, ends every session and queues a notice (MailTokenRepository).
 */
export async function confirmPasswordReset(
  deps: MailFlowDeps,
  input: { token: string; newPassword: string; client?: ClientInfo },
): Promise<void> {
  if (!isMailTokenShape(input.token)) throw invalidMailToken();
  const hash = hashMailToken(input.token);
  const live = await deps.mailTokens.findLive(hash, 'password_reset', deps.clock.now());
  if (!live) throw invalidMailToken();
  try {
    checkPasswordPolicy(input.newPassword, deps.policy, live.email);
  } catch (error) {
    if (isGatehouseError(error, 'invalid_input')) {
      throw new GatehouseError('invalid_input', error.message, { field: 'new_password' });
    }
    throw error;
  }
  const passwordHash = await deps.hasher.hash(input.newPassword);
  const now = deps.clock.now();
  const user = await deps.mailTokens.resetPassword(hash, passwordHash, now, [
    deps.renderMail({
      to: live.email,
      template: 'password-changed',
      data: {
        email: live.email,
        when: now.toISOString(),
        reset_link: `${deps.publicUrl}/#/forgot-password`,
      },
    }),
  ]);
  if (!user) throw invalidMailToken();
  deps.mailQueued();
  // Whoever reads the mailbox may sign in now: a lock an attacker's guesses put on the account
  // must not outlast the owner's proven recovery (ASVS 2.2.1 without a lock-out lever).
  await deps.throttle.clearFailures(user.email);
  await recordAuditEvent(
    deps,
    'password.reset',
    {
      actorId: user.id,
      subjectId: user.id,
      email: user.email,
      details: { all_sessions_ended: true },
    },
    input.client,
  );
}
