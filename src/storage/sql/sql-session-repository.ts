import type { Kysely } from 'kysely';
import type { User } from '../../domain/accounts/user.ts';
import type { Session } from '../../domain/sessions/session.ts';
import type { SessionRepository } from '../../domain/sessions/session-repository.ts';
import { toDbTime, type Database } from './database.ts';
import { toUser } from './user-rows.ts';

export class SqlSessionRepository implements SessionRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
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
      })
      .execute();
  }

  async findActiveUser(sessionId: string, userId: number, now: Date): Promise<User | undefined> {
    const row = await this.#db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['users.id', 'users.email', 'users.role', 'users.created_at', 'users.disabled_at'])
      .where('sessions.id', '=', sessionId)
      .where('sessions.user_id', '=', userId)
      .where('sessions.revoked_at', 'is', null)
      .where('sessions.expires_at', '>', toDbTime(now))
      .where('users.disabled_at', 'is', null)
      .executeTakeFirst();
    return row && toUser(row);
  }
}
