import { normalizeEmail, parseEmail } from '../email-address.ts';
import type { UserWithHash } from '../accounts/user.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import { GatehouseError, isGatehouseError } from '../errors.ts';
import type { ClientInfo } from '../client-info.ts';
import { mailLink } from './mail-draft.ts';
import { expiresIn, type MailFlowDeps } from './mail-flow-deps.ts';
import { newMailToken } from './mail-token.ts';

/**
 * POST /users/me/email (API.md 8): proves the current password (ASVS 2.1.x re-authentication,
 * throttled like a login), then sends a confirmation link to the new address and a notice to
 * the old one. The address changes only when the link is followed (POST /verify-email), where
 * uniqueness is checked again.
 */
export async function requestEmailChange(
  deps: MailFlowDeps,
  input: { userId: number; newEmail: string; currentPassword: string; client?: ClientInfo },
): Promise<void> {
  const login = await findLogin(deps, input.userId);
  await deps.throttle.beginAttempt(login.email);
  if (!(await deps.hasher.verify(login.passwordHash, input.currentPassword)).valid) {
    throw new GatehouseError('incorrect_password', 'Incorrect password');
  }
  await deps.throttle.clearFailures(login.email);
  let newEmail: string;
  try {
    newEmail = parseEmail(input.newEmail);
  } catch (error) {
    if (isGatehouseError(error, 'invalid_input')) {
      throw new GatehouseError('invalid_input', error.message, { field: 'new_email' });
    }
    throw error;
  }
  if (normalizeEmail(newEmail) === normalizeEmail(login.email)) {
    throw new GatehouseError('invalid_input', 'the new address is the current one', {
      field: 'new_email',
    });
  }
  // An early answer for the common case. It tells a signed-in user no more than POST /users/
  // tells anyone (API.md 1 answers a taken address with 400), and saves the owner of that
  // address a confirmation they never asked for. The confirmation checks again.
  if (await deps.users.findByEmail(normalizeEmail(newEmail))) {
    throw new GatehouseError('email_taken', 'Email already registered');
  }
  const now = deps.clock.now();
  const { token, hash } = newMailToken();
  const issued = await deps.mailTokens.issue(
    {
      hash,
      userId: login.id,
      purpose: 'email_change',
      email: newEmail,
      createdAt: now,
      expiresAt: expiresIn(now, deps.verifyTokenTtl),
    },
    [
      deps.renderMail({
        to: newEmail,
        template: 'email-change-confirm',
        data: {
          old_email: login.email,
          new_email: newEmail,
          link: mailLink(deps.publicUrl, 'verify-email', token),
        },
      }),
      // The owner learns of the attempt even if a stolen session started it.
      deps.renderMail({
        to: login.email,
        template: 'email-change-notice',
        data: {
          old_email: login.email,
          new_email: newEmail,
          reset_link: `${deps.publicUrl}/#/forgot-password`,
        },
      }),
    ],
  );
  if (!issued) throw new GatehouseError('not_found', 'User not found');
  deps.mailQueued();
  await recordAuditEvent(
    deps,
    'email.change_requested',
    {
      actorId: login.id,
      subjectId: login.id,
      email: login.email,
      details: { new_email: newEmail },
    },
    input.client,
  );
}

async function findLogin(deps: MailFlowDeps, userId: number): Promise<UserWithHash> {
  const login = await deps.users.findCredentialsById(userId);
  if (!login) throw new GatehouseError('not_found', 'User not found');
  return login;
}
