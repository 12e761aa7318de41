import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { ManualClock } from '../../src/domain/clock.ts';
import { me, refresh, registerAndLogin, toPair } from '../support/client.ts';
import { STORAGE_BACKENDS, type StorageBackend } from '../support/storage-backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// The refresh grant's writes are one transaction: a failure between consuming the presented
// token and storing its successor leaves the presented token unused, so the client's retry
// rotates it instead of being taken for reuse (which would end the session).

/** Runs SQL on the app's database through a connection of the test's own. */
async function onStore(backend: StorageBackend, url: string, statements: string): Promise<void> {
  if (backend.name === 'sqlite') {
    const db = new SqliteDatabase(url.slice('sqlite:'.length));
    try {
      db.exec(statements);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statements);
  } finally {
    await client.end();
  }
}

/** A trigger that fails every insert into refresh_tokens while test_failure_armed has a row. */
function failingInsertTrigger(backend: StorageBackend): string {
  if (backend.name === 'sqlite') {
    return `create table test_failure_armed (armed integer);
      create trigger test_fail_refresh_insert before insert on refresh_tokens
      when exists (select 1 from test_failure_armed)
      begin select raise(abort, 'injected failure'); end;`;
  }
  return `create table test_failure_armed (armed integer);
    ${postgresInsertTrigger('exists (select 1 from test_failure_armed)', "raise exception 'injected failure'")}`;
}

/** Postgres: a trigger that runs `failure` before an insert into refresh_tokens when `condition`. */
function postgresInsertTrigger(condition: string, failure: string): string {
  return `create function test_fail_refresh_insert() returns trigger language plpgsql as $$
    begin
      if ${condition} then ${failure}; end if;
      return new;
    end $$;
    create trigger test_fail_refresh_insert before insert on refresh_tokens
    for each row execute function test_fail_refresh_insert();`;
}

for (const backend of STORAGE_BACKENDS) {
  for (const grace of ['0', '30']) {
    describe(
      `an interrupted refresh on ${backend.name} (reuse grace ${grace}s)`,
      { skip: backend.skip },
      () => {
        let t: TestApp;
        let databaseUrl: string;
        let dir: string | undefined;
        before(async () => {
          if (backend.name === 'sqlite') {
            dir = mkdtempSync(join(tmpdir(), 'gatehouse-refresh-atomic-'));
            databaseUrl = `sqlite:${join(dir, 'gatehouse.db')}`;
          } else {
            databaseUrl = await backend.freshUrl();
          }
          t = await createTestApp({
            clock: new ManualClock(),
            env: { GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_REFRESH_REUSE_GRACE: grace },
          });
          await onStore(backend, databaseUrl, failingInsertTrigger(backend));
        });
        after(async () => {
          await t?.close();
          if (dir) rmSync(dir, { recursive: true, force: true });
        });

        it('leaves the presented refresh token usable when storing its successor fails, so the retry rotates it', async () => {
          const tokens = toPair((await registerAndLogin(t.app)).body);
          await onStore(backend, databaseUrl, 'insert into test_failure_armed values (1)');
          const failed = await refresh(t.app, tokens.refreshToken);
          assert.ok(failed.statusCode >= 500, `the injected failure answers ${failed.statusCode}`);

          await onStore(backend, databaseUrl, 'delete from test_failure_armed');
          const retried = await refresh(t.app, tokens.refreshToken);
          assert.equal(retried.statusCode, 200, retried.body);
          const next = toPair(retried.json());
          assert.notEqual(next.refreshToken, tokens.refreshToken);
          // The session lives on: its new tokens work, and the successor rotates in turn.
          assert.equal((await me(t.app, next.accessToken)).statusCode, 200);
          assert.equal((await refresh(t.app, next.refreshToken)).statusCode, 200);
        });
      },
    );
  }
}

const postgres = STORAGE_BACKENDS.find((backend) => backend.name === 'postgres')!;

describe('a refresh that Postgres aborts as a deadlock victim', { skip: postgres.skip }, () => {
  it('is run again from the start and answers 200, the session going on', async () => {
    const databaseUrl = await postgres.freshUrl();
    const t = await createTestApp({
      clock: new ManualClock(),
      env: { GATEHOUSE_DATABASE_URL: databaseUrl },
    });
    try {
      const tokens = toPair((await registerAndLogin(t.app)).body);
      // The next insert of a refresh token fails as 40P01 does; a sequence counts the attempts,
      // since it doesn't roll back with the failed transaction.
      await onStore(
        postgres,
        databaseUrl,
        `create sequence test_attempts;
        ${postgresInsertTrigger("nextval('test_attempts') = 1", "raise exception 'injected deadlock' using errcode = '40P01'")}`,
      );
      const refreshed = await refresh(t.app, tokens.refreshToken);
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      // Two attempts: the one aborted, the one that committed (a failed ASSERT raises).
      await onStore(
        postgres,
        databaseUrl,
        'do $$ begin assert (select last_value from test_attempts) = 2; end $$',
      );
      const next = toPair(refreshed.json());
      assert.equal((await me(t.app, next.accessToken)).statusCode, 200);
      assert.equal((await refresh(t.app, next.refreshToken)).statusCode, 200);
    } finally {
      await t.close();
    }
  });
});
