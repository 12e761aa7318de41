import type { Kysely } from 'kysely';
import type { Database } from './database.ts';
import { prepareQuery } from './prepared-query.ts';
import { USER_COLUMNS } from './user-rows.ts';

/**
 * The user lookups of every password grant, registration, MFA or passkey step and password
 * change, compiled once (prepared-query.ts). Each is one primary-key or unique-index read.
 */
export function prepareUserQueries(db: Kysely<Database>) {
  return {
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
