import { recordAuditEvent, type AuditDeps } from '../audit/record-audit-event.ts';
import { GatehouseError } from '../errors.ts';
import { normalizeEmail } from '../email-address.ts';
import type { SessionRepository } from '../sessions/session-repository.ts';
import type { ClientInfo } from '../client-info.ts';
import type { User } from './user.ts';
import type { AccessChanges, UserRepository } from './user-repository.ts';

export interface AdminUsersDeps extends AuditDeps {
  users: UserRepository;
  sessions: SessionRepository;
}

/** Who asks for an admin change: an admin over HTTP, or nobody known (`actorId: null`) from the CLI. */
export interface AdminRequest {
  actorId: number | null;
  client?: ClientInfo;
}

function userNotFound(): GatehouseError {
  return new GatehouseError('not_found', 'User not found');
}

function lastAdmin(what: string): GatehouseError {
  return new GatehouseError(
    'last_admin',
    `Cannot ${what} the last active admin; make another user an admin first`,
  );
}

export async function getUser(deps: Pick<AdminUsersDeps, 'users'>, id: number): Promise<User> {
  const user = await deps.users.findById(id);
  if (!user) throw userNotFound();
  return user;
}

/** A user named the way an operator types it on the command line: an id, or an email. */
export async function findUser(deps: Pick<AdminUsersDeps, 'users'>, ref: string): Promise<User> {
  if (/^\d{1,10}$/.test(ref)) return getUser(deps, Number(ref));
  const user = await deps.users.findByEmail(normalizeEmail(ref));
  if (!user) throw userNotFound();
  return user;
}

/**
 * PATCH /users/{id} (API.md 3): changes role and/or disabled state. The last active admin
 * can't be demoted or disabled (409), decided atomically by the store. Disabling ends every
 * session of the user at once (its access tokens already fail: every request reads the user).
 */
export async function changeUserAccess(
  deps: AdminUsersDeps,
  request: AdminRequest & { userId: number; changes: AccessChanges },
): Promise<User> {
  const now = deps.clock.now();
  const result = await deps.users.changeAccess(request.userId, request.changes, now);
  if (result.outcome === 'not_found') throw userNotFound();
  if (result.outcome === 'last_admin') {
    throw lastAdmin(request.changes.disabled ? 'disable' : 'demote');
  }
  const { before, after } = result;
  if (after.disabled !== before.disabled) {
    // On enabling too: a login that read the account just before it was disabled may have
    // opened a session after the revocation; it must not come alive with the account.
    await deps.sessions.revokeAllForUser(after.id, now, 'admin');
  }
  const subject = { actorId: request.actorId, subjectId: after.id, email: after.email };
  if (before.role !== after.role) {
    await recordAuditEvent(
      deps,
      'user.role_changed',
      { ...subject, details: { from: before.role, to: after.role } },
      request.client,
    );
  }
  if (before.disabled !== after.disabled) {
    const type = after.disabled ? 'user.disabled' : 'user.enabled';
    await recordAuditEvent(deps, type, subject, request.client);
  }
  return after;
}

/** DELETE /users/{id}: removes the account and, with it, every session (409 for the last admin). */
export async function deleteUser(
  deps: AdminUsersDeps,
  request: AdminRequest & { userId: number },
): Promise<void> {
  const result = await deps.users.delete(request.userId);
  if (result.outcome === 'not_found') throw userNotFound();
  if (result.outcome === 'last_admin') throw lastAdmin('delete');
  await recordAuditEvent(
    deps,
    'user.deleted',
    { actorId: request.actorId, subjectId: result.user.id, email: result.user.email },
    request.client,
  );
}

/**
 * DELETE /users/{id}/sessions: an admin signs a user out everywhere (a lost laptop, a
 * suspected takeover; ASVS 3.3.4 lets the user, and here an admin, end every session). The
 * account stays as it is; its next request with an old access token fails because each
 * request reads the session from the store. Returns how many sessions ended.
 */
export async function endUserSessions(
  deps: AdminUsersDeps,
  request: AdminRequest & { userId: number },
): Promise<number> {
  const user = await getUser(deps, request.userId);
  const ended = await deps.sessions.revokeAllForUser(user.id, deps.clock.now(), 'admin');
  await recordAuditEvent(
    deps,
    'session.logout',
    {
      actorId: request.actorId,
      subjectId: user.id,
      email: user.email,
      details: { all: true, ended },
    },
    request.client,
  );
  return ended;
}

/** GET /users/: a page of users in id order, after `afterId`; one extra row tells if more follow. */
export async function listUsers(
  deps: Pick<AdminUsersDeps, 'users'>,
  page: { limit: number; afterId?: number; emailPrefix?: string },
): Promise<{ items: User[]; nextAfterId: number | undefined }> {
  const rows = await deps.users.list({ ...page, limit: page.limit + 1 });
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return { items, nextAfterId: rows.length > page.limit && last ? last.id : undefined };
}
