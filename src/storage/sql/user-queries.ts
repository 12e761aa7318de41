import type { Kysely } from 'kysely';
import type { Database } from './database.ts';
import { prepareQuery } from './prepared-query.ts';
import { USER_COLUMNS } from './user-rows.ts';

/**
 * The user lookups of every password grant, registration, MFA or passkey step and password
 * change, compiled once (prepared-query.ts). Each is one primary-key or unique-index read.
 * Also a registration's two inserts: building them with Kysely on every request cost more of
 * its event-loop time than all its checks of email and password together (a --cpu-prof of
 * POST /users/ with argon2 set low: 5% against 0.5%).
 */
export function prepareUserQueries(db: Kysely<Database>) {
  return {
    insert: prepareQuery<'email' | 'emailNormalized' | 'passwordHash' | 'role' | 'createdAt'>()(
      (param) =>
        db
          .insertInto('users')
          .values({
            email: param('email'),
            email_normalized: param('emailNormalized'),
            password_hash: param('passwordHash'),
            role: param('role'),
            created_at: param('createdAt'),
            disabled_at: null,
          })
          .returning(USER_COLUMNS),
    ),
    insertVerificationToken: prepareQuery<
      'tokenHash' | 'userId' | 'email' | 'createdAt' | 'expiresAt'
    >()((param) =>
      db.insertInto('email_tokens').values({
        token_hash: param('tokenHash'),
        user_id: param('userId'),
        purpose: 'verify_email',
        email: param('email'),
        created_at: param('createdAt'),
        expires_at: param('expiresAt'),
        used_at: null,
      }),
    ),
    findByEmail: prepareQuery<'email'>()((param) =>
      db
        .selectFrom('users')
        .select(USER_COLUMNS)
        .where('email_normalized', '=', param<string>('email')),
    ),
    findCredentialsByEmail: prepareQuery<'email'>()((param) =>
      db
        .selectFrom('users')
        .select([...USER_COLUMNS, 'password_hash'])
        .where('email_normalized', '=', param<string>('email')),
    ),
    findCredentialsById: prepareQuery<'id'>()((param) =>
      db
        .selectFrom('users')
        .select([...USER_COLUMNS, 'password_hash'])
        .where('id', '=', param<number>('id')),
    ),
  };
}
