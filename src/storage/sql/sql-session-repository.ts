import { sql, type Kysely, type Selectable } from 'kysely';
import {
  SESSION_END_REASONS,
  type Session,
  type SessionEndReason,
} from '../../domain/sessions/session.ts';
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
  type RefreshTokensTable,
  type SessionsTable,
  type UsersTable,
} from './database.ts';
import { dialectOf } from './dialect.ts';
import { isForeignKeyViolation } from './driver-errors.ts';
import { kyselyRunner, type QueryRunner } from './run-query.ts';
import { prepareQuery } from './prepared-query.ts';
import { toUser, USER_COLUMNS } from './user-rows.ts';

type OpenSessionParameters =
  | 'id'
  | 'userId'
  | 'verifiedHash'
  | 'createdAt'
  | 'lastUsedAt'
  | 'expiresAt'
  | 'revokedAt'
  | 'userAgent'
  | 'ip'
  | 'scope';

/**
 * INSERT ... SELECT from the user's row, so the session is stored only while that row still
 * holds the hash the login verified (SessionRepository.create states why this is race-free).
 * Postgres needs the FOR SHARE lock for it and the casts to type the selected parameters.
 */
function prepareOpenSession(db: Kysely<Database>) {
  const postgres = dialectOf(db) === 'postgres';
  const time = sql.raw(postgres ? 'timestamptz' : 'text');
  return prepareQuery<OpenSessionParameters>((param) => {
    const text = (name: OpenSessionParameters) => sql<string>`cast(${param(name)} as text)`;
    const at = (name: OpenSessionParameters) => sql<string>`cast(${param(name)} as ${time})`;
    let user = db
      .selectFrom('users')
      .select([
        text('id').as('id'),
        'users.id as user_id',
        at('createdAt').as('created_at'),
        at('lastUsedAt').as('last_used_at'),
        at('expiresAt').as('expires_at'),
        at('revokedAt').as('revoked_at'),
        text('userAgent').as('user_agent'),
        text('ip').as('ip'),
        text('scope').as('scope'),
      ])
      .where('users.id', '=', param<number>('userId'))
      .where('users.password_hash', '=', param<string>('verifiedHash'))
      .where('users.disabled_at', 'is', null);
    if (postgres) user = user.forShare();
    return db
      .insertInto('sessions')
      .columns([
        'id',
        'user_id',
        'created_at',
        'last_used_at',
        'expires_at',
        'revoked_at',
        'user_agent',
        'ip',
        'scope',
      ])
      .expression(user);
  });
}

/**
 * The statements of every authenticated request (findActive, touch), every login (create,
 * addRefreshToken) and every refresh (consume, findRefreshToken), compiled once.
 */
function prepareSessionQueries(db: Kysely<Database>) {
  return {
    // Primary-key lookups on both tables.
    findActive: prepareQuery<'sessionId' | 'userId' | 'now'>((param) =>
      db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select([
          'users.id',
          'users.email',
          'users.role',
          'users.created_at',
          'users.disabled_at',
          'users.email_verified',
          'users.mfa_enabled',
          'sessions.last_used_at',
          'sessions.scope',
        ])
        .where('sessions.id', '=', param<string>('sessionId'))
        .where('sessions.user_id', '=', param<number>('userId'))
        .where('sessions.revoked_at', 'is', null)
        .where('sessions.expires_at', '>', param<string>('now'))
        .where('users.disabled_at', 'is', null),
    ),
    create: prepareOpenSession(db),
    touch: prepareQuery<'sessionId' | 'now'>((param) =>
      db
        .updateTable('sessions')
        .set({ last_used_at: param('now') })
        .where('id', '=', param<string>('sessionId')),
    ),
    touchAndExtend: prepareQuery<'sessionId' | 'now' | 'expiresAt'>((param) =>
      db
        .updateTable('sessions')
        .set({ last_used_at: param('now'), expires_at: param('expiresAt') })
        .where('id', '=', param<string>('sessionId')),
    ),
    addRefreshToken: prepareQuery<'hash' | 'sessionId' | 'createdAt' | 'expiresAt'>((param) =>
      db
        .insertInto('refresh_tokens')
        .values({
          token_hash: param('hash'),
          session_id: param('sessionId'),
          created_at: param('createdAt'),
          expires_at: param('expiresAt'),
          used_at: null,
        })
        // Idempotent (the port's contract): every grace-window presenter of a parent adds the
        // one child it re-issues, and the first write (with its used_at) stands.
        .onConflict((oc) => oc.column('token_hash').doNothing()),
    ),
    // RFC 9700 4.14.2: one conditional UPDATE decides which concurrent presenter rotates, and
    // only while the session and its user are live, so the winner's right to rotate is settled
    // in the same statement (a loser revoking the session a moment later can't undo it).
    consume: prepareQuery<'hash' | 'now' | 'sealedChild'>((param) =>
      db
        .updateTable('refresh_tokens')
        // The sealed child is written by the same statement that wins the token, so whoever
        // sees it used sees the winner's child too.
        .set({ used_at: param('now'), sealed_child: param('sealedChild') })
        .where('token_hash', '=', param<string>('hash'))
        .where('used_at', 'is', null)
        .where('expires_at', '>', param<string>('now'))
        // A correlated EXISTS: SQLite would run an IN (subquery) as a list of every live session.
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('sessions')
              .innerJoin('users', 'users.id', 'sessions.user_id')
              .select(sql.lit(1).as('live'))
              .whereRef('sessions.id', '=', 'refresh_tokens.session_id')
              .where('sessions.revoked_at', 'is', null)
              .where('sessions.expires_at', '>', param<string>('now'))
              .where('users.disabled_at', 'is', null),
          ),
        )
        .returning('session_id'),
    ),
    findRefreshToken: prepareQuery<'hash'>((param) =>
      db
        .selectFrom('refresh_tokens')
        .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select([
          'sessions.id as session_id',
          'sessions.last_used_at',
          'sessions.scope',
          'refresh_tokens.used_at',
          'refresh_tokens.sealed_child',
          'refresh_tokens.expires_at as token_expires_at',
          ...USER_COLUMNS.map((c) => `users.${c}` as const),
        ])
        .where('refresh_tokens.token_hash', '=', param<string>('hash')),
    ),
  };
}

type RefreshTokenRow = Pick<
  Selectable<UsersTable>,
  'id' | 'email' | 'role' | 'created_at' | 'disabled_at' | 'email_verified' | 'mfa_enabled'
> &
  Pick<Selectable<SessionsTable>, 'last_used_at' | 'scope'> &
  Pick<Selectable<RefreshTokensTable>, 'used_at' | 'sealed_child'> & {
    session_id: string;
    token_expires_at: Selectable<RefreshTokensTable>['expires_at'];
  };

type FindActiveRow = Pick<
  Selectable<UsersTable>,
  'id' | 'email' | 'role' | 'created_at' | 'disabled_at' | 'email_verified' | 'mfa_enabled'
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
  readonly #run: QueryRunner;
  // The statements of every authenticated request, login and refresh, built once.
  readonly #prepared: ReturnType<typeof prepareSessionQueries>;

  constructor(db: Kysely<Database>, run: QueryRunner = kyselyRunner(db)) {
    this.#db = db;
    this.#run = run;
    this.#prepared = prepareSessionQueries(db);
  }

  async create(session: Session, verifiedHash: string): Promise<boolean> {
    const result = await this.#run(
      this.#prepared.create({
        id: session.id,
        userId: session.userId,
        verifiedHash,
        createdAt: toDbTime(session.createdAt),
        lastUsedAt: toDbTime(session.lastUsedAt),
        expiresAt: toDbTime(session.expiresAt),
        revokedAt: session.revokedAt && toDbTime(session.revokedAt),
        userAgent: session.userAgent,
        ip: session.ip,
        scope: session.scope,
      }),
    );
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  async findActive(
    sessionId: string,
    userId: number,
    now: Date,
  ): Promise<ActiveSession | undefined> {
    const query = this.#prepared.findActive({ sessionId, userId, now: toDbTime(now) });
    const row = (await this.#run(query)).rows[0] as FindActiveRow | undefined;
    return row && { user: toUser(row), lastUsedAt: toDate(row.last_used_at), scope: row.scope };
  }

  async touch(sessionId: string, now: Date, expiresAt?: Date): Promise<void> {
    await this.#run(
      expiresAt === undefined
        ? this.#prepared.touch({ sessionId, now: toDbTime(now) })
        : this.#prepared.touchAndExtend({
            sessionId,
            now: toDbTime(now),
            expiresAt: toDbTime(expiresAt),
          }),
    );
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

  async revoke(
    sessionId: string,
    userId: number,
    now: Date,
    reason: SessionEndReason,
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('sessions')
      .set({ revoked_at: toDbTime(now), revoked_reason: reason })
      .where('id', '=', sessionId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', toDbTime(now))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async revokeAllForUser(
    userId: number,
    now: Date,
    reason: SessionEndReason,
    exceptSessionId?: string,
  ): Promise<number> {
    let query = this.#db
      .updateTable('sessions')
      .set({ revoked_at: toDbTime(now), revoked_reason: reason })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      // Only active sessions count as ended: an expired one already was.
      .where('expires_at', '>', toDbTime(now));
    if (exceptSessionId !== undefined) query = query.where('id', '!=', exceptSessionId);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async addRefreshToken(token: NewRefreshToken): Promise<boolean> {
    try {
      await this.#run(
        this.#prepared.addRefreshToken({
          hash: token.hash,
          sessionId: token.sessionId,
          createdAt: toDbTime(token.createdAt),
          expiresAt: toDbTime(token.expiresAt),
        }),
      );
      return true;
    } catch (error) {
      // The session went (its user was deleted) after the caller read it.
      if (isForeignKeyViolation(error)) return false;
      throw error;
    }
  }

  async consumeRefreshToken(hash: string, now: Date, sealedChild?: string): Promise<ConsumeResult> {
    const consume = this.#prepared.consume({
      hash,
      now: toDbTime(now),
      sealedChild: sealedChild ?? null,
    });
    const consumed = (await this.#run(consume)).rows[0];
    const found = this.#prepared.findRefreshToken({ hash });
    const row = (await this.#run(found)).rows[0] as RefreshTokenRow | undefined;
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
      sealedChild: row.sealed_child,
    };
  }

  async findRefreshTokenSession(
    hash: string,
  ): Promise<
    { sessionId: string; userId: number; endReason: SessionEndReason | null } | undefined
  > {
    const row = await this.#db
      .selectFrom('refresh_tokens')
      .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
      .select(['sessions.id', 'sessions.user_id', 'sessions.revoked_at', 'sessions.revoked_reason'])
      .where('refresh_tokens.token_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    const reason = row.revoked_reason as SessionEndReason | null;
    return {
      sessionId: row.id,
      userId: Number(row.user_id),
      // Only a known reason of a revoked session: anything else reads as none.
      endReason:
        row.revoked_at !== null && reason !== null && SESSION_END_REASONS.includes(reason)
          ? reason
          : null,
    };
  }

  async eraseSealedChildren(usedBefore: Date): Promise<number> {
    const result = await this.#db
      .updateTable('refresh_tokens')
      .set({ sealed_child: null })
      .where('sealed_child', 'is not', null)
      .where('used_at', '<', toDbTime(usedBefore))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
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
