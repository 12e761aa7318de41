import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { openStorage } from '../../src/storage/open-storage.ts';
import { registerAndLogin } from '../support/client.ts';
import { createTestApp } from '../support/test-app.ts';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

// Files only SQLite has: a Postgres database lives in its server's own data directory.
/**
 * Triggers, created from a second connection, that record in `sync_seen` the `synchronous`
 * level each write to `table` commits at: triggers run in the connection that writes, so each
 * sees the level as that connection has it.
 */
function recordSynchronousLevels(
  observer: SqliteDatabase.Database,
  writes: [table: string, event: 'insert' | 'update' | 'delete'][],
): void {
  observer.exec('create table sync_seen (what text, level integer)');
  for (const [table, event] of writes) {
    observer.exec(
      `create trigger seen_${table}_${event} after ${event} on ${table} for each row begin
         insert into sync_seen select '${table} ${event}', synchronous from pragma_synchronous;
       end`,
    );
  }
}

describe('the SQLite files at rest', () => {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-files-'));
  let previousUmask: number;
  before(() => {
    // The usual umask, under which files are created world-readable unless asked otherwise.
    previousUmask = process.umask(0o022);
  });
  after(() => {
    process.umask(previousUmask);
    rmSync(root, { recursive: true, force: true });
  });

  it('migrates one new file from two stores of one process at once, each migration once', async () => {
    // Between processes SQLite's write lock orders migrations (test/cli/cli.test.ts); within
    // one, a synchronous busy wait would block the holder: they must queue instead.
    const url = `sqlite:${join(root, 'one-process.db')}`;
    const stores = await Promise.all([openStorage(url), openStorage(url)]);
    try {
      const applied = (await Promise.all(stores.map((store) => store.migrate()))).flat();
      assert.ok(applied.includes('0001-initial'), applied.join(', '));
      assert.equal(new Set(applied).size, applied.length, `each once: ${applied.join(', ')}`);
      assert.deepEqual(await stores[1]!.migrate(), [], 'nothing left to apply');
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('creates the data directory 0700 and the database, -wal and -shm 0600, even after writes', async () => {
    const dataDir = join(root, 'fresh', 'data');
    const path = join(dataDir, 'gatehouse.db');
    const t = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: `sqlite:${path}` } });
    try {
      // A registration and a login write the user, the session and (in development) the secret.
      await registerAndLogin(t.app);
      assert.equal(modeOf(join(root, 'fresh')), '700');
      assert.equal(modeOf(dataDir), '700');
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        assert.equal(modeOf(file), '600', file);
      }
      assert.deepEqual(t.storage.warnings, []);
      assert.deepEqual(await t.storage.durability(), { journal_mode: 'wal', synchronous: 'full' });
    } finally {
      await t.close();
    }
  });

  it('runs with synchronous=NORMAL only when GATEHOUSE_SQLITE_SYNCHRONOUS=normal asks for it', async () => {
    const url = `sqlite:${join(root, 'normal.db')}`;
    const t = await createTestApp({
      env: { GATEHOUSE_DATABASE_URL: url, GATEHOUSE_SQLITE_SYNCHRONOUS: 'normal' },
    });
    try {
      assert.equal((await t.storage.durability()).synchronous, 'normal');
    } finally {
      await t.close();
    }
  });

  it('commits login-throttle writes at synchronous=NORMAL (no fsync) and every other write at the configured FULL', async () => {
    const path = join(root, 'throttle-sync.db');
    const storage = await openStorage(`sqlite:${path}`);
    const observer = new SqliteDatabase(path);
    try {
      await storage.migrate();
      recordSynchronousLevels(observer, [
        ['login_throttles', 'insert'],
        ['login_throttles', 'update'],
        ['login_throttles', 'delete'],
        ['users', 'insert'],
      ]);
      const schedule = {
        failuresBeforeLock: 5,
        firstLockMs: 1000,
        maxLockMs: 5000,
        forgetAfterMs: 60_000,
      };
      const now = new Date('2030-01-01T00:00:00Z');
      await storage.loginThrottles.countAttempt('k1', now, schedule);
      await storage.loginThrottles.countAttempt('k1', now, schedule);
      await storage.loginThrottles.countAttempt('k2', now, schedule);
      assert.deepEqual(
        observer.prepare('select key, failures from login_throttles order by key').all(),
        [
          { key: 'k1', failures: 2 },
          { key: 'k2', failures: 1 },
        ],
      );
      await storage.loginThrottles.clear('k1');
      assert.equal(await storage.loginThrottles.purgeIdle(now), 1);
      await storage.users.create({
        email: 'sync@example.com',
        passwordHash: '$argon2id$x',
        role: 'user',
        createdAt: now,
      });
      assert.deepEqual(observer.prepare('select what, level from sync_seen').all(), [
        { what: 'login_throttles insert', level: 1 },
        { what: 'login_throttles update', level: 1 },
        { what: 'login_throttles insert', level: 1 },
        { what: 'login_throttles delete', level: 1 },
        { what: 'login_throttles delete', level: 1 },
        { what: 'users insert', level: 2 },
      ]);
      assert.equal(observer.prepare('select count(*) from login_throttles').pluck().get(), 0);
      assert.deepEqual(await storage.durability(), { journal_mode: 'wal', synchronous: 'full' });
    } finally {
      observer.close();
      await storage.close();
    }
  });

  it("commits the mail sender's claims and outcomes at synchronous=NORMAL and the mail's enqueue, with its user, at FULL", async () => {
    const path = join(root, 'outbox-sync.db');
    const storage = await openStorage(`sqlite:${path}`);
    const observer = new SqliteDatabase(path);
    try {
      await storage.migrate();
      recordSynchronousLevels(observer, [
        ['users', 'insert'],
        ['email_tokens', 'insert'],
        ['mail_outbox', 'insert'],
        ['mail_outbox', 'update'],
      ]);
      const now = new Date('2030-01-01T00:00:00Z');
      const later = new Date(now.getTime() + 1000);
      const message = (to: string) => ({
        to,
        subject: 'Verify your email',
        text: 'https://id.example.com/verify#token=t',
        html: '<p>verify</p>',
        kind: 'verify_email' as const,
      });
      // A registration: the user, its token and its mail in one transaction (durable).
      await storage.users.create(
        { email: 'a@example.com', passwordHash: '$argon2id$x', role: 'user', createdAt: now },
        { tokenHash: 'h'.repeat(64), expiresAt: later, mail: [message('a@example.com')] },
      );
      await storage.mailOutbox.enqueue(message('b@example.com'), now);
      await storage.mailOutbox.enqueue(message('c@example.com'), now);
      const lease = { now, limit: 10, leaseMs: 60_000 };
      const [first, second, third] = await storage.mailOutbox.claimBatch(lease);
      assert.ok(first && second && third);
      assert.equal(await storage.mailOutbox.markSent(first, now), true);
      assert.equal(
        await storage.mailOutbox.markRetry(second, { nextAttemptAt: now, error: '421 busy' }),
        true,
      );
      assert.equal(await storage.mailOutbox.markLogged(third, now), true);
      const [again] = await storage.mailOutbox.claimBatch({ ...lease, now: later });
      assert.equal(again?.id, second.id);
      assert.equal(await storage.mailOutbox.markFailed(again, { now: later, error: '550' }), true);
      assert.deepEqual(
        observer.prepare('select recipient, status, attempts from mail_outbox order by id').all(),
        [
          { recipient: 'a@example.com', status: 'sent', attempts: 1 },
          { recipient: 'b@example.com', status: 'failed', attempts: 2 },
          { recipient: 'c@example.com', status: 'logged', attempts: 1 },
        ],
      );
      assert.deepEqual(observer.prepare('select what, level from sync_seen').all(), [
        { what: 'users insert', level: 2 },
        { what: 'email_tokens insert', level: 2 },
        { what: 'mail_outbox insert', level: 2 },
        { what: 'mail_outbox insert', level: 2 },
        { what: 'mail_outbox insert', level: 2 },
        // The claim of three rows: one statement, one commit.
        { what: 'mail_outbox update', level: 1 },
        { what: 'mail_outbox update', level: 1 },
        { what: 'mail_outbox update', level: 1 },
        // sent, retry, logged; the second claim; failed.
        { what: 'mail_outbox update', level: 1 },
        { what: 'mail_outbox update', level: 1 },
        { what: 'mail_outbox update', level: 1 },
        { what: 'mail_outbox update', level: 1 },
        { what: 'mail_outbox update', level: 1 },
      ]);
      assert.deepEqual(await storage.durability(), { journal_mode: 'wal', synchronous: 'full' });
    } finally {
      observer.close();
      await storage.close();
    }
  });

  it('leaves an existing database readable by others as it is, and warns about it', async () => {
    const path = join(root, 'old.db');
    writeFileSync(path, '', { mode: 0o644 });
    const storage = await openStorage(`sqlite:${path}`);
    try {
      assert.equal(modeOf(path), '644');
      assert.equal(storage.warnings.length, 1);
      assert.match(storage.warnings[0]!, /old\.db is accessible to other users \(mode 644\)/);
      assert.match(storage.warnings[0]!, /chmod 600/);
    } finally {
      await storage.close();
    }
  });
});
