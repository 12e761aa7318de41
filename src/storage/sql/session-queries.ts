import { sql, type Kysely } from 'kysely';
import type { Database } from './database.ts';
import { dialectOf } from './dialect.ts';
import { prepareQuery } from './prepared-query.ts';
import { USER_COLUMNS } from './user-rows.ts';

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
  return prepareQuery<OpenSessionParameters>()((param) => {
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
 * Postgres: locks the session the refresh token with this hash belongs to (none when there is
 * no such token), FOR NO KEY UPDATE as the refresh's UPDATE of the session would. A refresh
 * takes it before anything else, so its locks follow the order of an account deletion's
 * cascade (users, sessions, refresh_tokens): the reverse order, token before session,
 * deadlocked with it (40P01). The lock waits for a deletion that holds the session; once
 * that commits, the row is gone and the refresh finds its token gone too. SQLite has no
 * row locks (one writer), and so no such statement.
 */
function prepareLockSessionOfToken(db: Kysely<Database>) {
  if (dialectOf(db) !== 'postgres') return undefined;
  return prepareQuery<'hash'>()((param) =>
    db
      .selectFrom('sessions')
      .select('sessions.id')
      .where('sessions.id', '=', (eb) =>
        eb
          .selectFrom('refresh_tokens')
          .select('refresh_tokens.session_id')
          .where('refresh_tokens.token_hash', '=', param<string>('hash')),
      )
      // Only the session's row: the token's is locked by the consuming UPDATE, after it.
      .forNoKeyUpdate('sessions'),
  );
}

/**
 * The statements of every authenticated request (findActive, touch), every login (create,
 * insertFirstRefreshToken) and every refresh (lockSessionOfToken, consume, findRefreshToken), compiled
 * once.
 */
export function prepareSessionQueries(db: Kysely<Database>) {
  return {
    lockSessionOfToken: prepareLockSessionOfToken(db),
    // Primary-key lookups on both tables.
    findActive: prepareQuery<'sessionId' | 'userId' | 'now'>()((param) =>
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
    touch: prepareQuery<'sessionId' | 'now'>()((param) =>
      db
        .updateTable('sessions')
        .set({ last_used_at: param('now') })
        .where('id', '=', param<string>('sessionId')),
    ),
    touchAndExtend: prepareQuery<'sessionId' | 'now' | 'expiresAt'>()((param) =>
      db
        .updateTable('sessions')
        .set({ last_used_at: param('now'), expires_at: param('expiresAt') })
        .where('id', '=', param<string>('sessionId')),
    ),
    addRefreshToken: prepareQuery<'hash' | 'sessionId' | 'createdAt' | 'expiresAt'>()((param) =>
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
    // A login's first token: a plain insert, so a hash already stored fails (and rolls back the
    // session with it) instead of handing out another session's token.
    insertFirstRefreshToken: prepareQuery<'hash' | 'sessionId' | 'createdAt' | 'expiresAt'>()(
      (param) =>
        db.insertInto('refresh_tokens').values({
          token_hash: param('hash'),
          session_id: param('sessionId'),
          created_at: param('createdAt'),
          expires_at: param('expiresAt'),
          used_at: null,
        }),
    ),
    // SQLite's batch of a login (SqlSessionRepository.create): the first token, stored only
    // when the session it belongs to was just opened, so one batch holds both statements.
    insertFirstRefreshTokenOfOpened: prepareQuery<
      'hash' | 'sessionId' | 'createdAt' | 'expiresAt'
    >()((param) =>
      db
        .insertInto('refresh_tokens')
        .columns(['token_hash', 'session_id', 'created_at', 'expires_at', 'used_at'])
        .expression(
          db
            .selectFrom('sessions')
            .select([
              sql<string>`${param('hash')}`.as('token_hash'),
              'sessions.id as session_id',
              sql<string>`${param('createdAt')}`.as('created_at'),
              sql<string>`${param('expiresAt')}`.as('expires_at'),
              sql<null>`null`.as('used_at'),
            ])
            .where('sessions.id', '=', param<string>('sessionId')),
        ),
    ),
    // RFC 9700 4.14.2: one conditional UPDATE decides which concurrent presenter rotates, and
    // only while the session and its user are live, so the winner's right to rotate is settled
    // in the same statement (a loser revoking the session a moment later can't undo it).
    consume: prepareQuery<'hash' | 'now' | 'sealedChild'>()((param) =>
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
    findRefreshToken: prepareQuery<'hash'>()((param) =>
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
