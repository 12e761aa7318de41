import { sql, type Kysely } from 'kysely';
import type { User } from '../../domain/accounts/user.ts';
import type {
  AccessChangeResult,
  AccessChanges,
  DeleteUserResult,
} from '../../domain/accounts/user-repository.ts';
import type { Database } from './database.ts';
import { toDbTime } from './db-time.ts';
import { dialectOf } from './dialect.ts';
import { toUser, USER_COLUMNS } from './user-rows.ts';

interface AdminState {
  /** The user being changed, as of now, or undefined if there is none. */
  target: User | undefined;
  /** Active admins (role admin, not disabled), the target included when it is one. */
  activeAdmins: number;
}

const isActiveAdmin = (user: { role: string; disabled: boolean }) =>
  user.role === 'admin' && !user.disabled;

async function readAdminState(
  db: Kysely<Database>,
  userId: number,
  lock: boolean,
): Promise<AdminState> {
  let query = db
    .selectFrom('users')
    .select(USER_COLUMNS)
    .where((eb) =>
      eb.or([
        eb('id', '=', userId),
        eb.and([eb('role', '=', 'admin'), eb('disabled_at', 'is', null)]),
      ]),
    )
    // Every such transaction locks in id order, so two of them never deadlock.
    .orderBy('id');
  // FOR NO KEY UPDATE conflicts with itself but not with the KEY SHARE lock that inserting a
  // session takes on its user row, so logins of admins don't queue behind an admin change.
  if (lock) query = query.forNoKeyUpdate();
  const users = (await query.execute()).map(toUser);
  return {
    target: users.find((u) => u.id === userId),
    activeAdmins: users.filter(isActiveAdmin).length,
  };
}

/**
 * Runs `decide` in a transaction in which no other connection can change who is an active
 * admin until it commits, so "is this the last admin?" and the write that depends on it are
 * one atomic step (a conditional UPDATE alone is not: under READ COMMITTED two of them each
 * see the other admin still active, and both apply).
 * - Postgres: the active admin rows and the target row are locked FOR NO KEY UPDATE. A
 *   concurrent change waits on those locks, then re-checks the locked rows' latest versions
 *   against its WHERE clause (READ COMMITTED), so it counts the admins the first one left.
 * - SQLite has one writer at a time: BEGIN IMMEDIATE takes the write lock before the read,
 *   which also holds against another process (the CLI beside the server).
 */
async function withAdminStateLocked<T>(
  db: Kysely<Database>,
  userId: number,
  decide: (trx: Kysely<Database>, state: AdminState) => Promise<T>,
): Promise<T> {
  if (dialectOf(db) === 'postgres') {
    return db
      .transaction()
      .execute(async (trx) => decide(trx, await readAdminState(trx, userId, true)));
  }
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const result = await decide(connection, await readAdminState(connection, userId, false));
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      // The original error matters; a failing rollback means there was nothing to undo.
      await sql`rollback`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}

export function changeAccess(
  db: Kysely<Database>,
  id: number,
  changes: AccessChanges,
  now: Date,
): Promise<AccessChangeResult> {
  return withAdminStateLocked(db, id, async (trx, { target, activeAdmins }) => {
    if (!target) return { outcome: 'not_found' };
    const role = changes.role ?? target.role;
    const disabled = changes.disabled ?? target.disabled;
    if (isActiveAdmin(target) && !isActiveAdmin({ role, disabled }) && activeAdmins <= 1) {
      return { outcome: 'last_admin' };
    }
    if (role === target.role && disabled === target.disabled) {
      return { outcome: 'changed', before: target, after: target };
    }
    const row = await trx
      .updateTable('users')
      .set({
        role,
        // Re-disabling keeps the original time; enabling clears it.
        ...(disabled === target.disabled ? {} : { disabled_at: disabled ? toDbTime(now) : null }),
      })
      .where('id', '=', id)
      .returning(USER_COLUMNS)
      .executeTakeFirstOrThrow();
    return { outcome: 'changed', before: target, after: toUser(row) };
  });
}

export function deleteUser(db: Kysely<Database>, id: number): Promise<DeleteUserResult> {
  return withAdminStateLocked(db, id, async (trx, { target, activeAdmins }) => {
    if (!target) return { outcome: 'not_found' };
    if (isActiveAdmin(target) && activeAdmins <= 1) return { outcome: 'last_admin' };
    // Sessions and their refresh tokens go with the user (ON DELETE CASCADE).
    await trx.deleteFrom('users').where('id', '=', id).execute();
    return { outcome: 'deleted', user: target };
  });
}
