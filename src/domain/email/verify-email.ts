import { recordAuditEvent, recordOwnAuditEvent } from '../audit/record-audit-event.ts';
import { GatehouseError } from '../errors.ts';
import type { ClientInfo } from '../client-info.ts';
import { mailLink, type MailDraft } from './mail-draft.ts';
import { expiresIn, invalidMailToken, type MailFlowDeps } from './mail-flow-deps.ts';
import { hashMailToken, isMailTokenShape, newMailToken } from './mail-token.ts';

/** The verification message for `email` carrying `token` (registration and resends). */
export function verificationMail(publicUrl: string, email: string, token: string): MailDraft {
  return {
    to: email,
    template: 'verify-email',
    data: { email, link: mailLink(publicUrl, 'verify-email', token) },
  };
}

/**
 * POST /users/me/verify-email (API.md 8): a new verification link to the user's address; it
 * voids any earlier one. An address already verified gets nothing (and the same 202).
 */
export async function requestEmailVerification(
  deps: MailFlowDeps,
  input: { userId: number; client?: ClientInfo },
): Promise<void> {
  const user = await deps.users.findById(input.userId);
  if (!user) throw new GatehouseError('not_found', 'User not found');
  if (user.emailVerified) return;
  const now = deps.clock.now();
  const { token, hash } = newMailToken();
  const issued = await deps.mailTokens.issue(
    {
      hash,
      userId: user.id,
      purpose: 'verify_email',
      email: user.email,
      createdAt: now,
      expiresAt: expiresIn(now, deps.verifyTokenTtl),
    },
    [deps.renderMail(verificationMail(deps.publicUrl, user.email, token))],
  );
  if (!issued) throw new GatehouseError('not_found', 'User not found');
  deps.mailQueued();
  await recordOwnAuditEvent(deps, 'email.verification_requested', user, input.client);
}

/**
 * POST /verify-email (API.md 8): follows a link from a verification or an email-change
 * message. Each token has one purpose, so at most one of the two consumptions can apply: a
 * verification marks the address verified; an email change moves the account to the new
 * address (and marks it verified), after checking again that no one else has it
 * (`email_taken`, the token left unused).
 */
export async function confirmEmailToken(
  deps: MailFlowDeps,
  input: { token: string; client?: ClientInfo },
): Promise<void> {
  if (!isMailTokenShape(input.token)) throw invalidMailToken();
  const hash = hashMailToken(input.token);
  const now = deps.clock.now();
  const verified = await deps.mailTokens.confirmVerification(hash, now);
  if (verified) {
    await recordAuditEvent(
      deps,
      'email.verified',
      { actorId: verified.id, subjectId: verified.id, email: verified.email },
      input.client,
    );
    return;
  }
  const change = await deps.mailTokens.changeEmail(hash, now);
  if (change.outcome === 'invalid') throw invalidMailToken();
  await recordAuditEvent(
    deps,
    'email.changed',
    {
      actorId: change.after.id,
      subjectId: change.after.id,
      email: change.after.email,
      details: { from: change.before.email, to: change.after.email },
    },
    input.client,
  );
}
