import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { AuditEvent } from '../../src/domain/audit/audit-log.ts';
import { verifyAuditChain } from '../../src/domain/audit/verify-audit-chain.ts';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import { openRawSql, sharedStoreUrl, type RawSql } from '../support/raw-sql.ts';
import { sqliteWalCommits } from '../support/sqlite-wal-commits.ts';
import { STORAGE_BACKENDS, type StorageBackend } from '../support/storage-backends.ts';

// Many audit records at once (every login, refresh and registration appends one): they are
// appended in batches, one commit each (audit-chain-append.ts). What a batch must keep: the
// order of the records, one valid chain, and each record's own outcome.

const AT_ONCE = 50;
const REFUSED = 'refused@example.com';

function event(subjectId: number, n: number, email = `user${n}@example.com`): AuditEvent {
  return {
    type: 'login.succeeded',
    createdAt: new Date(Date.UTC(2031, 2, 1, 10, 0, 0, n)),
    actorId: subjectId,
    subjectId,
    email,
    ip: '203.0.113.7',
    userAgent: 'agent/1.0',
    details: { n },
  };
}

interface Store {
  storage: Storage;
  raw: RawSql;
  url: string;
}

function storePerSuite(backend: StorageBackend): () => Store {
  let store: Store | undefined;
  before(async () => {
    const url = await sharedStoreUrl(backend);
    const storage = await openStorage(url);
    await storage.migrate();
    store = { storage, raw: await openRawSql(url), url };
  });
  after(async () => {
    await store?.raw.close();
    await store?.storage.close();
  });
  return () => {
    if (!store) throw new Error('storePerSuite: the suite has not started');
    return store;
  };
}

/** The `details.n` of the entries recorded for `subjectId`, in chain order. */
async function chainOrder(store: Store, subjectId: number): Promise<number[]> {
  const rows = await store.raw.query<{ details: string }>(
    `select details from audit_events where subject_id = ${subjectId} order by seq`,
  );
  return rows.map((row) => Number((JSON.parse(row.details) as { n: number }).n));
}

/** Makes the store itself refuse any audit entry for REFUSED, as a failing statement would. */
async function refuseOneEmail(t: TestContext, store: Store, backend: StorageBackend) {
  if (backend.name === 'sqlite') {
    await store.raw.query(
      `create trigger refuse_one before insert on audit_events when new.email = '${REFUSED}'
       begin select raise(abort, 'entry refused by the test'); end`,
    );
    t.after(() => store.raw.query('drop trigger refuse_one'));
    return;
  }
  await store.raw.query(
    `create function refuse_one() returns trigger language plpgsql as $$
     begin
       if new.email = '${REFUSED}' then raise exception 'entry refused by the test'; end if;
       return new;
     end $$`,
  );
  await store.raw.query(
    'create trigger refuse_one before insert on audit_events for each row execute function refuse_one()',
  );
  t.after(async () => {
    await store.raw.query('drop trigger refuse_one on audit_events');
    await store.raw.query('drop function refuse_one()');
  });
}

for (const backend of STORAGE_BACKENDS) {
  describe(`audit records at once (${backend.name})`, { skip: backend.skip }, () => {
    const storeOf = storePerSuite(backend);

    it(`appends ${AT_ONCE} records made at once in the order they were made, as one valid chain`, async () => {
      const store = storeOf();
      await Promise.all(
        Array.from({ length: AT_ONCE }, (_, n) => store.storage.audit.record(event(500, n))),
      );
      assert.deepEqual(
        await chainOrder(store, 500),
        Array.from({ length: AT_ONCE }, (_, n) => n),
      );
      const report = await verifyAuditChain({ audit: store.storage.audit });
      assert.ok(report.ok, JSON.stringify(report));
    });

    it('fails every record of a batch the store refuses, stores none of them, and goes on', async (t) => {
      const store = storeOf();
      await refuseOneEmail(t, store, backend);
      const refused = 25;
      const outcomes = await Promise.allSettled(
        Array.from({ length: AT_ONCE }, (_, n) =>
          store.storage.audit.record(event(600, n, n === refused ? REFUSED : undefined)),
        ),
      );
      const rejected = outcomes.flatMap((outcome, n) => (outcome.status === 'rejected' ? [n] : []));
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected')
          assert.match(String(outcome.reason), /refused by the test/);
      }
      // Its neighbours were recorded in the same turn, so they shared its batch.
      for (const n of [refused - 1, refused, refused + 1]) assert.ok(rejected.includes(n), `${n}`);
      // On SQLite all the records of one event-loop turn form one batch.
      if (backend.name === 'sqlite') assert.equal(rejected.length, AT_ONCE);
      // A record resolved exactly when its entry was stored.
      const stored = await chainOrder(store, 600);
      assert.deepEqual(
        stored,
        Array.from({ length: AT_ONCE }, (_, n) => n).filter((n) => !rejected.includes(n)),
      );
      await store.storage.audit.record(event(601, 0));
      assert.deepEqual(await chainOrder(store, 601), [0]);
      const report = await verifyAuditChain({ audit: store.storage.audit });
      assert.ok(report.ok, JSON.stringify(report));
    });

    if (backend.name === 'sqlite') {
      it('commits the records made in one event-loop turn together: one commit, one fsync', async () => {
        const store = storeOf();
        const walPath = `${store.url.slice('sqlite:'.length)}-wal`;
        // Empties the WAL: every frame in it after this was written by the records below.
        await store.raw.query('pragma wal_checkpoint(TRUNCATE)');
        assert.equal(sqliteWalCommits(walPath), 0);
        await Promise.all(
          Array.from({ length: AT_ONCE }, (_, n) => store.storage.audit.record(event(700, n))),
        );
        assert.equal(sqliteWalCommits(walPath), 1);
        // Records made one after another, each awaited, each commit on its own.
        for (const n of [0, 1, 2]) await store.storage.audit.record(event(701, n));
        assert.equal(sqliteWalCommits(walPath), 4);
        assert.equal((await chainOrder(store, 700)).length, AT_ONCE);
      });
    }
  });
}
