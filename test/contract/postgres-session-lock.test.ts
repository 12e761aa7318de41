import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import pg from 'pg';
import type { Session } from '../../src/domain/sessions/session.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { firstRefreshToken } from '../support/contract-store.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';

// SessionRepository.create under READ COMMITTED, made visible: a password change that has
// updated the hash but not committed yet. Without the FOR SHARE lock the insert would read the
// old hash from its snapshot and store a session that the change's revocation, already past,
// never sees. The interleaving is held open here with a second connection, so it is certain.
// The session is opened as every login opens it, with its first refresh token in the same
// transaction: the session's INSERT ... SELECT takes the user's row FOR SHARE first, so the
// first token's insert, after it, changes nothing of the wait.

const postgres = STORAGE_BACKENDS.find((backend) => backend.name === 'postgres');
const T0 = new Date('2030-06-01T12:00:00.000Z');

/** A session of `userId`, opened at T0 for an hour. */
function sessionOf(userId: number): Session {
  return {
    id: randomUUID(),
    userId,
    createdAt: T0,
    lastUsedAt: T0,
    expiresAt: new Date(T0.getTime() + 3_600_000),
    revokedAt: null,
    userAgent: null,
    ip: null,
    scope: 'me',
  };
}

describe('opening a session on Postgres', { skip: postgres?.skip ?? 'no Postgres backend' }, () => {
  it('waits for an uncommitted password change, then opens nothing with the old hash', async () => {
    const url = await postgres!.freshUrl();
    const storage = await openStorage(url);
    const change = new pg.Client({ connectionString: url });
    try {
      await storage.migrate();
      const user = await storage.users.create({
        email: 'locked@example.com',
        passwordHash: '$argon2id$old',
        role: 'user',
        createdAt: T0,
      });
      await change.connect();
      await change.query('begin');
      await change.query('update users set password_hash = $1 where id = $2', [
        '$argon2id$new',
        user.id,
      ]);
      let settled = false;
      const session = sessionOf(user.id);
      const first = firstRefreshToken(session);
      const opening = storage.sessions.create(session, '$argon2id$old', first).finally(() => {
        settled = true;
      });
      // Waiting, not a lucky sleep: the change's connection holds the lock the insert waits for.
      await untilSomeoneWaitsOn(change);
      assert.equal(settled, false, 'the insert waits for the change to commit');
      await change.query('commit');
      assert.equal(await opening, false);
      assert.deepEqual(await storage.sessions.listActive(user.id, T0), []);
      assert.equal(await storage.sessions.findRefreshTokenSession(first.hash), undefined);
    } finally {
      await change.end();
      await storage.close();
    }
  });
});

/** Polls until `client`'s connection holds a lock that another backend waits for. */
async function untilSomeoneWaitsOn(client: pg.Client): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    const { rows } = await client.query<{ waiting: boolean }>(
      `select exists (select 1 from pg_stat_activity
         where pg_backend_pid() = any (pg_blocking_pids(pid))) as waiting`,
    );
    if (rows[0]?.waiting) return;
    await sleep(25);
  }
  assert.fail('nothing waited for the lock');
}

// The refresh's one transaction against an account deletion whose cascade has reached the
// session (users, then sessions, then refresh_tokens, as ON DELETE CASCADE goes). Taking the
// locks in the other order (the refresh token, then the session) deadlocked them: Postgres
// killed one with 40P01 and the deletion answered 500.
describe(
  'rotating a refresh token on Postgres',
  { skip: postgres?.skip ?? 'no Postgres backend' },
  () => {
    it('locks the session before the refresh token, so a deletion holding the session finishes and the refresh finds the token gone', async () => {
      const url = await postgres!.freshUrl();
      const storage = await openStorage(url);
      const deletion = new pg.Client({ connectionString: url });
      try {
        await storage.migrate();
        const user = await storage.users.create({
          email: 'deleted@example.com',
          passwordHash: '$argon2id$x',
          role: 'user',
          createdAt: T0,
        });
        const session = sessionOf(user.id);
        // The login's first refresh token is the one rotated.
        assert.equal(
          await storage.sessions.create(
            session,
            '$argon2id$x',
            firstRefreshToken(session, 'parent'),
          ),
          true,
        );
        const { expiresAt } = session;
        await deletion.connect();
        await deletion.query('begin');
        // Where the cascade stands after deleting the sessions and before their refresh tokens.
        await deletion.query('select id from users where id = $1 for no key update', [user.id]);
        await deletion.query('select id from sessions where user_id = $1 for update', [user.id]);
        const rotating = storage.sessions.rotateRefreshToken(
          'parent',
          T0,
          { hash: 'child', createdAt: T0, expiresAt },
          expiresAt,
        );
        await untilSomeoneWaitsOn(deletion);
        // The refresh waits on the session and holds nothing of the token: NOWAIT gets it (it
        // would fail with 55P03 had the refresh locked the token first).
        await deletion.query(
          'select 1 from refresh_tokens where token_hash = $1 for update nowait',
          ['parent'],
        );
        await deletion.query('delete from users where id = $1', [user.id]);
        await deletion.query('commit');
        assert.equal((await rotating).outcome, 'unknown');
        assert.equal(await storage.sessions.findRefreshTokenSession('child'), undefined);
      } finally {
        await deletion.end();
        await storage.close();
      }
    });
  },
);
