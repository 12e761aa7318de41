import type { Kysely, Selectable } from 'kysely';
import {
  isSessionEndReason,
  type Session,
  type SessionEndReason,
} from '../../domain/sessions/session.ts';
import type {
  ActiveSession,
  ConsumeResult,
  NewRefreshToken,
  SessionRepository,
} from '../../domain/sessions/session-repository.ts';
import type { Database, SessionsTable } from './database.ts';
import { toDate, toDateOrNull, toDbTime, toDbTimeOrNull } from './db-time.ts';
import { isForeignKeyViolation } from './driver-errors.ts';
import { dialectOf } from './dialect.ts';
import { kyselyRunner, type BatchRunner, type QueryRunner } from './run-query.ts';
import { prepareSessionQueries } from './session-queries.ts';
import { inRetriedWriteTransaction } from './write-transaction.ts';
import { toUser } from './user-rows.ts';

function toSession(row: Selectable<SessionsTable>): Session {
  return {
    id: row.id,
    userId: Number(row.user_id),
    createdAt: toDate(row.created_at),
    lastUsedAt: toDate(row.last_used_at),
    expiresAt: toDate(row.expires_at),
    revokedAt: toDateOrNull(row.revoked_at),
    userAgent: row.user_agent,
    ip: row.ip,
    scope: row.scope,
  };
}

type ActiveSessionRow = Parameters<typeof toUser>[0] &
  Pick<Selectable<SessionsTable>, 'last_used_at' | 'scope'>;

function toActiveSession({ rows }: { rows: ActiveSessionRow[] }): ActiveSession | undefined {
  const row = rows[0];
  return row && { user: toUser(row), lastUsedAt: toDate(row.last_used_at), scope: row.scope };
}

export class SqlSessionRepository implements SessionRepository {
  readonly #db: Kysely<Database>;
  readonly #run: QueryRunner;
  // The statements of every authenticated request, login and refresh, built once.
  readonly #prepared: ReturnType<typeof prepareSessionQueries>;

  // SQLite: a login's two inserts as one batch (run-query.ts), or undefined.
  readonly #loginBatch: BatchRunner | undefined;

  /**
   * `runBatch` (open-storage.ts: sqliteBatchRunner) is used on SQLite only. Postgres keeps its
   * retried transaction, whose FOR SHARE lock and retry on a conflict a batch would not give.
   */
  constructor(db: Kysely<Database>, run: QueryRunner = kyselyRunner(db), runBatch?: BatchRunner) {
    this.#db = db;
    this.#run = run;
    this.#prepared = prepareSessionQueries(db);
    this.#loginBatch = dialectOf(db) === 'sqlite' ? runBatch : undefined;
  }

  async create(
    session: Session,
    verifiedHash: string,
    firstRefreshToken: Omit<NewRefreshToken, 'sessionId'>,
  ): Promise<boolean> {
    const open = this.#prepared.create({
      id: session.id,
      userId: session.userId,
      verifiedHash,
      createdAt: toDbTime(session.createdAt),
      lastUsedAt: toDbTime(session.lastUsedAt),
      expiresAt: toDbTime(session.expiresAt),
      revokedAt: toDbTimeOrNull(session.revokedAt),
      userAgent: session.userAgent,
      ip: session.ip,
      scope: session.scope,
    });
    const first = {
      hash: firstRefreshToken.hash,
      sessionId: session.id,
      createdAt: toDbTime(firstRefreshToken.createdAt),
      expiresAt: toDbTime(firstRefreshToken.expiresAt),
    };
    // No row inserted: the user is gone, disabled, or no longer holds `verifiedHash`.
    const opened = (result: { numAffectedRows?: bigint }) =>
      Number(result.numAffectedRows ?? 0) > 0;
    if (this.#loginBatch) {
      // One BEGIN IMMEDIATE ... COMMIT run synchronously, with no Kysely transaction built and
      // awaited per login (issue 21): the token is inserted only when the session was opened,
      // and an error (a hash already stored) rolls back both and rejects, as below.
      const [opening] = await this.#loginBatch([
        open,
        this.#prepared.insertFirstRefreshTokenOfOpened(first),
      ]);
      return opened(opening!);
    }
    // Issue 21: one commit, so one fsync per login where two separate ones cost two, on the
    // event loop. Locks in the schema's one order (users FOR SHARE, then the session's key).
    return inRetriedWriteTransaction(this.#db, async (trx) => {
      if (!opened(await trx.executeQuery(open))) return false;
      await trx.executeQuery(this.#prepared.insertFirstRefreshToken(first));
      return true;
    });
  }

  // Not async: the runner's promise, mapped, is the answer; an async frame around it cost an
  // object and a step on every authenticated request (issue 21).
  findActive(sessionId: string, userId: number, now: Date): Promise<ActiveSession | undefined> {
    const query = this.#prepared.findActive({ sessionId, userId, now: toDbTime(now) });
    return this.#run(query).then(toActiveSession);
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
      await this.#run(this.#addRefreshToken(token));
      return true;
    } catch (error) {
      // The session went (its user was deleted) after the caller read it.
      if (isForeignKeyViolation(error)) return false;
      throw error;
    }
  }

  #addRefreshToken(token: NewRefreshToken) {
    return this.#prepared.addRefreshToken({
      hash: token.hash,
      sessionId: token.sessionId,
      createdAt: toDbTime(token.createdAt),
      expiresAt: toDbTime(token.expiresAt),
    });
  }

  async rotateRefreshToken(
    hash: string,
    now: Date,
    successor: Omit<NewRefreshToken, 'sessionId'>,
    sessionExpiresAt: Date,
    sealedChild?: string,
  ): Promise<ConsumeResult> {
    // RFC 9700 4.14.2 with a failure in the middle: a consume that commits without its
    // successor would make the client's retry look like reuse and end the session.
    return inRetriedWriteTransaction(this.#db, async (trx) => {
      // Inside the transaction every statement goes through its connection (on SQLite the
      // runner's would wait for the connection this transaction holds).
      const run: QueryRunner = (query) => trx.executeQuery(query);
      // Postgres: the session's row first, then the token's (session-queries.ts says why). While
      // this transaction holds the session, it can't be deleted under the successor's insert.
      const lockSession = this.#prepared.lockSessionOfToken;
      if (lockSession) await run(lockSession({ hash }));
      const result = await this.#consume(run, hash, now, sealedChild);
      if (result.outcome !== 'consumed') return result;
      await run(
        this.#prepared.touchAndExtend({
          sessionId: result.sessionId,
          now: toDbTime(now),
          expiresAt: toDbTime(sessionExpiresAt),
        }),
      );
      await run(this.#addRefreshToken({ ...successor, sessionId: result.sessionId }));
      return result;
    });
  }

  async #consume(
    run: QueryRunner,
    hash: string,
    now: Date,
    sealedChild: string | undefined,
  ): Promise<ConsumeResult> {
    const consume = this.#prepared.consume({
      hash,
      now: toDbTime(now),
      sealedChild: sealedChild ?? null,
    });
    const consumed = (await run(consume)).rows[0];
    const found = this.#prepared.findRefreshToken({ hash });
    const row = (await run(found)).rows[0];
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
    return {
      sessionId: row.id,
      userId: Number(row.user_id),
      // Only a known reason of a revoked session: anything else reads as none.
      endReason:
        row.revoked_at !== null && isSessionEndReason(row.revoked_reason)
          ? row.revoked_reason
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
    // `unknown` to rotateRefreshToken whether kept or not, so only the table's size changes.
    await this.#db.deleteFrom('refresh_tokens').where('expires_at', '<=', toDbTime(now)).execute();
    return Number(result.numDeletedRows);
  }
}
