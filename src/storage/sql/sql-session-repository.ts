import { sql, type Kysely, type Selectable } from 'kysely';
import type { Session } from '../../domain/sessions/session.ts';
import type {
  ActiveSession,
  ConsumeResult,
  NewRefreshToken,
  SessionRepository,
} from '../../domain/sessions/session-repository.ts';
import {
  toDate,
  toDbTime,
  type Database,
  type SessionsTable,
  type UsersTable,
} from './database.ts';
import { kyselyFirstRow, type FirstRowReader } from './first-row.ts';
import { toUser, USER_COLUMNS } from './user-rows.ts';

type FindActiveRow = Pick<
  Selectable<UsersTable>,
  'id' | 'email' | 'role' | 'created_at' | 'disabled_at'
> &
  Pick<Selectable<SessionsTable>, 'last_used_at' | 'scope'>;

function toSession(row: Selectable<SessionsTable>): Session {
  return {
    id: row.id,
    userId: Number(row.user_id),
    createdAt: toDate(row.created_at),
    lastUsedAt: toDate(row.last_used_at),
    expiresAt: toDate(row.expires_at),
    revokedAt: row.revoked_at === null ? null : toDate(row.revoked_at),
    userAgent: row.user_agent,
    ip: row.ip,
    scope: row.scope,
  };
}

export class SqlSessionRepository implements SessionRepository {
  readonly #db: Kysely<Database>;

  /**
   * The one query of every authenticated request, built and compiled once: primary-key lookups
   * on both tables. Kysely would otherwise rebuild and compile it per request (about a tenth of
   * the request's CPU in the bench profile). Parameters: session id, user id, now.
   */
  readonly #findActiveSql: string;

  readonly #firstRow: FirstRowReader;

  constructor(db: Kysely<Database>, firstRow: FirstRowReader = kyselyFirstRow(db)) {
    this.#db = db;
    this.#firstRow = firstRow;
    this.#findActiveSql = db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select([
        'users.id',
        'users.email',
        'users.role',
        'users.created_at',
        'users.disabled_at',
        'sessions.last_used_at',
        'sessions.scope',
      ])
      .where('sessions.id', '=', '')
      .where('sessions.user_id', '=', 0)
      .where('sessions.revoked_at', 'is', null)
      .where('sessions.expires_at', '>', '')
      .where('users.disabled_at', 'is', null)
      .compile().sql;
  }

  async create(session: Session): Promise<void> {
    await this.#db
      .insertInto('sessions')
      .values({
        id: session.id,
        user_id: session.userId,
        created_at: toDbTime(session.createdAt),
        last_used_at: toDbTime(session.lastUsedAt),
        expires_at: toDbTime(session.expiresAt),
        revoked_at: session.revokedAt && toDbTime(session.revokedAt),
        user_agent: session.userAgent,
        ip: session.ip,
        scope: session.scope,
      })
      .execute();
  }

  async findActive(
    sessionId: string,
    userId: number,
    now: Date,
  ): Promise<ActiveSession | undefined> {
    const row = (await this.#firstRow(this.#findActiveSql, [sessionId, userId, toDbTime(now)])) as
      FindActiveRow | undefined;
    return row && { user: toUser(row), lastUsedAt: toDate(row.last_used_at), scope: row.scope };
  }

  async touch(sessionId: string, now: Date, expiresAt?: Date): Promise<void> {
    await this.#db
      .updateTable('sessions')
      .set({
        last_used_at: toDbTime(now),
        ...(expiresAt === undefined ? {} : { expires_at: toDbTime(expiresAt) }),
      })
      .where('id', '=', sessionId)
      .execute();
  }

  async listActive(userId: number, now: Date): Promise<Session[]> {
    const rows = await this.#db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', toDbTime(now))
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
    return rows.map(toSession);
  }

  async revoke(sessionId: string, userId: number, now: Date): Promise<boolean> {
    const result = await this.#db
      .updateTable('sessions')
      .set({ revoked_at: toDbTime(now) })
      .where('id', '=', sessionId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', toDbTime(now))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async revokeAllForUser(userId: number, now: Date, exceptSessionId?: string): Promise<number> {
    let query = this.#db
      .updateTable('sessions')
      .set({ revoked_at: toDbTime(now) })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      // Only active sessions count as ended: an expired one already was.
      .where('expires_at', '>', toDbTime(now));
    if (exceptSessionId !== undefined) query = query.where('id', '!=', exceptSessionId);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async addRefreshToken(token: NewRefreshToken): Promise<void> {
    await this.#db
      .insertInto('refresh_tokens')
      .values({
        token_hash: token.hash,
        session_id: token.sessionId,
        created_at: toDbTime(token.createdAt),
        expires_at: toDbTime(token.expiresAt),
        used_at: null,
      })
      .execute();
  }

  async consumeRefreshToken(hash: string, now: Date): Promise<ConsumeResult> {
    const at = toDbTime(now);
    // RFC 9700 4.14.2: one conditional UPDATE decides which concurrent presenter rotates, and
    // only while the session and its user are live, so the winner's right to rotate is settled
    // in the same statement (a loser revoking the session a moment later can't undo it).
    const consumed = await this.#db
      .updateTable('refresh_tokens')
      .set({ used_at: at })
      .where('token_hash', '=', hash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', at)
      // A correlated EXISTS: SQLite would run an IN (subquery) as a list of every live session.
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('sessions')
            .innerJoin('users', 'users.id', 'sessions.user_id')
            .select(sql.lit(1).as('live'))
            .whereRef('sessions.id', '=', 'refresh_tokens.session_id')
            .where('sessions.revoked_at', 'is', null)
            .where('sessions.expires_at', '>', at)
            .where('users.disabled_at', 'is', null),
        ),
      )
      .returning('session_id')
      .executeTakeFirst();
    const row = await this.#db
      .selectFrom('refresh_tokens')
      .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select([
        'sessions.id as session_id',
        'sessions.last_used_at',
        'sessions.scope',
        'refresh_tokens.used_at',
        'refresh_tokens.expires_at as token_expires_at',
        ...USER_COLUMNS.map((c) => `users.${c}` as const),
      ])
      .where('refresh_tokens.token_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return { outcome: 'unknown' };
    const user = toUser(row);
    if (consumed) {
      return {
        outcome: 'consumed',
        sessionId: row.session_id,
        userId: user.id,
        session: { user, lastUsedAt: toDate(row.last_used_at), scope: row.scope },
      };
    }
    if (toDate(row.token_expires_at) <= now || row.used_at === null) return { outcome: 'unknown' };
    return {
      outcome: 'already_used',
      sessionId: row.session_id,
      userId: user.id,
      usedAt: toDate(row.used_at),
    };
  }

  async purgeEnded(now: Date, revokedRetentionSeconds: number): Promise<number> {
    const revokedBefore = new Date(now.getTime() - revokedRetentionSeconds * 1000);
    // Refresh tokens go with their session (ON DELETE CASCADE).
    const result = await this.#db
      .deleteFrom('sessions')
      .where((eb) =>
        eb.or([
          eb('expires_at', '<=', toDbTime(now)),
          eb('revoked_at', '<=', toDbTime(revokedBefore)),
        ]),
      )
      .executeTakeFirst();
    // A live session keeps rotating: its expired refresh tokens go too. An expired token is
    // `unknown` to consumeRefreshToken whether kept or not, so only the table's size changes.
    await this.#db.deleteFrom('refresh_tokens').where('expires_at', '<=', toDbTime(now)).execute();
    return Number(result.numDeletedRows);
  }
}
