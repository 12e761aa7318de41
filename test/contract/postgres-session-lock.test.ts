import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openStorage } from '../../src/storage/open-storage.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';

// SessionRepository.create under READ COMMITTED, made visible: a password change that has
// updated the hash but not committed yet. Without the FOR SHARE lock the insert would read the
// old hash from its snapshot and store a session that the change's revocation, already past,
// never sees. The interleaving is held open here with a second connection, so it is certain.

const postgres = STORAGE_BACKENDS.find((backend) => backend.name === 'postgres');
const T0 = new Date('2030-06-01T12:00:00.000Z');

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
      const opening = storage.sessions
        .create(
          {
            id: randomUUID(),
            userId: user.id,
            createdAt: T0,
            lastUsedAt: T0,
            expiresAt: new Date(T0.getTime() + 3_600_000),
            revokedAt: null,
            userAgent: null,
            ip: null,
            scope: 'me',
          },
          '$argon2id$old',
        )
        .finally(() => {
          settled = true;
        });
      await sleep(300);
      assert.equal(settled, false, 'the insert waits for the change to commit');
      await change.query('commit');
      assert.equal(await opening, false);
      assert.deepEqual(await storage.sessions.listActive(user.id, T0), []);
    } finally {
      await change.end();
      await storage.close();
    }
  });
});
