import { performance } from 'node:perf_hooks';
import { normalizeEmail } from '../accounts/email.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import { usernameForAudit } from '../audit/username-for-audit.ts';
import { GatehouseError, isGatehouseError } from '../errors.ts';
import { checkPasswordPolicy } from '../passwords/password-policy.ts';
import type { ClientInfo } from '../sessions/session.ts';
import { mailLink } from './mail-draft.ts';
import { expiresIn, invalidMailToken, type MailFlowDeps } from './mail-flow-deps.ts';
import { hashMailToken, isMailTokenShape, newMailToken } from './mail-token.ts';

// Which kind of work the timing floor learns: issuing a reset link (a transaction).
const ISSUE_RESET = 'issue_password_reset';

/**
 * POST /password-reset (API.md 8). The caller answers the same 202 whatever happens here, so
 * the body and status say nothing; the timing doesn't either (CWE-204/208, ASVS 2.5.x): every
 * request does the same lookup, token generation and audit write, and only a registered,
 * enabled address also runs the transaction that stores the token and queues the mail. The
 * time of that transaction is learned (FailureTimingFloor) and a request for any other address
 * is held as long, so both answer after the same time.
 */
export async function requestPasswordReset(
  deps: MailFlowDeps,
  input: { email: string; client?: ClientInfo },
): Promise<void> {
  const { token, hash } = newMailToken();
  const user = await deps.users.findByEmailForLogin(normalizeEmail(input.email));
  const started = performance.now();
  if (!user || user.disabled) {
    await deps.resetTiming.holdFailure(started);
    await recordAuditEvent(
      deps,
      'password.reset_requested',
      {
        subjectId: user?.id ?? null,
        email: usernameForAudit(input.email),
        details: { sent: false, reason: user ? 'disabled' : 'unknown_email' },
      },
      input.client,
    );
    return;
  }
  const now = deps.clock.now();
  // Rendering is part of the measured work: the floor covers everything the unknown path skips.
  const issued = await deps.resetTiming.measure(ISSUE_RESET, () =>
    deps.mailTokens.issue(
      {
        hash,
        userId: user.id,
        purpose: 'password_reset',
        email: user.email,
        createdAt: now,
        expiresAt: expiresIn(now, deps.resetTokenTtl),
      },
      [
        deps.renderMail({
          to: user.email,
          template: 'password-reset',
          data: {
            email: user.email,
            link: mailLink(deps.publicUrl, 'reset-password', token),
            expires_minutes: String(Math.round(deps.resetTokenTtl / 60)),
          },
        }),
      ],
    ),
  );
  if (issued) deps.mailQueued();
  await recordAuditEvent(
    deps,
    'password.reset_requested',
    { subjectId: user.id, email: user.email, details: { sent: issued } },
    input.client,
  );
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
