import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { AuditEvent, AuditLog } from '../../src/domain/audit/audit-log.ts';
import type { Storage } from '../../src/storage/open-storage.ts';

const T0 = new Date('2031-03-01T10:00:00.000Z');

function at(minutes: number): Date {
  return new Date(T0.getTime() + minutes * 60_000);
}

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    type: 'login.succeeded',
    createdAt: T0,
    actorId: null,
    subjectId: null,
    email: null,
    ip: null,
    userAgent: null,
    details: null,
    ...overrides,
  };
}

/**
 * The AuditLog port's contract, written once and run against every store
 * (audit-repository.test.ts). `open` gives a freshly migrated, empty store.
 */
export function auditRepositoryContract(open: () => Promise<Storage>): void {
  let storage: Storage;
  let audit: AuditLog;
  before(async () => {
    storage = await open();
    audit = storage.audit;
  });
  after(() => storage?.close());

  it('stores every field and gives it back as recorded', async () => {
    const recorded = event({
      type: 'user.role_changed',
      createdAt: new Date('2031-01-02T03:04:05.678Z'),
      actorId: 7,
      subjectId: 8,
      email: 'Ünïcode.User@example.com',
      ip: '2001:db8::1',
      userAgent: 'Mozilla/5.0 "quoted"',
      details: { from: 'admin', to: 'user', count: 2, flag: true, nothing: null },
    });
    await audit.record(recorded);
    const [entry] = await audit.list({ userId: 8 }, { limit: 10 });
    assert.ok(entry);
    assert.equal(typeof entry.id, 'number');
    assert.ok(entry.id > 0);
    const { id: _id, actorEmail, subjectEmail, ...rest } = entry;
    assert.deepEqual(rest, recorded);
    // Neither user 7 nor 8 exists: the emails they hold now are null (the recorded one stays).
    assert.equal(actorEmail, null);
    assert.equal(subjectEmail, null);
    assert.ok(entry.createdAt instanceof Date);
  });

  it('keeps nulls as nulls', async () => {
    await audit.record(event({ type: 'token.reuse_detected', subjectId: 9001 }));
    const [entry] = await audit.list({ userId: 9001 }, { limit: 10 });
    assert.equal(entry?.actorId, null);
    assert.equal(entry?.email, null);
    assert.equal(entry?.ip, null);
    assert.equal(entry?.userAgent, null);
    assert.equal(entry?.details, null);
  });

  it('lists newest first and pages below an id without repeats or gaps', async () => {
    for (let i = 0; i < 7; i += 1) {
      await audit.record(event({ subjectId: 100, details: { n: i } }));
    }
    const seen: number[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const page = await audit.list({ userId: 100 }, { limit: 3, beforeId });
      seen.push(...page.map((e) => Number(e.details?.n)));
      if (page.length < 3) break;
      beforeId = page.at(-1)!.id;
    }
    assert.deepEqual(seen, [6, 5, 4, 3, 2, 1, 0]);
  });

  it('matches user_id against the subject or the actor', async () => {
    await audit.record(event({ actorId: 200, subjectId: 201, type: 'user.disabled' }));
    await audit.record(event({ actorId: 201, subjectId: 201, type: 'session.logout' }));
    await audit.record(event({ actorId: 202, subjectId: 202, type: 'session.logout' }));
    const types = async (userId: number) =>
      (await audit.list({ userId }, { limit: 10 })).map((e) => e.type);
    assert.deepEqual(await types(200), ['user.disabled']);
    assert.deepEqual(await types(201), ['session.logout', 'user.disabled']);
  });

  it('filters by type, since (inclusive) and until (exclusive), all together', async () => {
    for (const [minute, type] of [
      [0, 'login.failed'],
      [1, 'login.failed'],
      [2, 'login.succeeded'],
      [3, 'login.failed'],
    ] as const) {
      await audit.record(event({ type, createdAt: at(minute), subjectId: 300 }));
    }
    const minutes = async (filters: Parameters<AuditLog['list']>[0]) =>
      (await audit.list({ userId: 300, ...filters }, { limit: 10 })).map(
        (e) => (e.createdAt.getTime() - T0.getTime()) / 60_000,
      );
    assert.deepEqual(await minutes({ type: 'login.failed' }), [3, 1, 0]);
    assert.deepEqual(await minutes({ since: at(1) }), [3, 2, 1]);
    assert.deepEqual(await minutes({ until: at(2) }), [1, 0]);
    assert.deepEqual(await minutes({ type: 'login.failed', since: at(1), until: at(3) }), [1]);
    assert.deepEqual(await minutes({ since: at(3), until: at(1) }), []);
  });

  it('keeps every one of many concurrent records, each with its own id', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        audit.record(event({ subjectId: 400, details: { n: i } })),
      ),
    );
    const entries = await audit.list({ userId: 400 }, { limit: 100 });
    assert.equal(entries.length, 40);
    assert.equal(new Set(entries.map((e) => e.id)).size, 40);
    assert.deepEqual(
      entries.map((e) => Number(e.details?.n)).sort((a, b) => a - b),
      Array.from({ length: 40 }, (_, i) => i),
    );
  });

  it("outlives the account it names: deleting the user keeps the user's entries", async () => {
    const user = await storage.users.create({
      email: 'audited-then-deleted@example.com',
      passwordHash: '$argon2id$unused',
      role: 'user',
      createdAt: T0,
    });
    await audit.record(event({ type: 'user.registered', actorId: user.id, subjectId: user.id }));
    assert.equal((await storage.users.delete(user.id)).outcome, 'deleted');
    await audit.record(event({ type: 'user.deleted', subjectId: user.id }));
    const types = (await audit.list({ userId: user.id }, { limit: 10 })).map((e) => e.type);
    assert.deepEqual(types, ['user.deleted', 'user.registered']);
  });
}
