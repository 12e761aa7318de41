import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { OutgoingMail } from '../../src/domain/mail/outgoing-mail.ts';
import type { Storage } from '../../src/storage/open-storage.ts';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms);
const LEASE = 60_000;

let counter = 0;
function mail(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  counter++;
  return {
    to: `user${counter}@example.com`,
    subject: `Subject ${counter}`,
    text: `text ${counter} https://id.example.com/reset#token=${counter}`,
    html: `<p>html ${counter}</p>`,
    kind: 'password_reset',
    ...overrides,
  };
}

/**
 * The MailOutbox port's contract (API.md 8), written once and run against every store
 * (storage.test.ts). `open` gives a freshly migrated, empty store per call.
 */
export function mailOutboxContract(open: () => Promise<Storage>): void {
  let storage: Storage;
  before(async () => {
    storage = await open();
  });
  after(() => storage?.close());

  /** Claims everything due at `now` until nothing is left, so tests start from an empty queue. */
  async function drain(now: Date) {
    for (;;) {
      const batch = await storage.mailOutbox.claimBatch({ now, limit: 100, leaseMs: LEASE });
      if (batch.length === 0) return;
      for (const claim of batch) await storage.mailOutbox.markSent(claim, now);
    }
  }

  it('enqueues a message as queued, due now, with its parts, and lists it', async () => {
    const message = mail({ to: 'Ann@Example.com' });
    const id = await storage.mailOutbox.enqueue(message, at(0));
    const stored = await storage.mailOutbox.get(id);
    assert.deepEqual(stored, {
      id,
      to: 'Ann@Example.com',
      subject: message.subject,
      text: message.text,
      html: message.html,
      kind: 'password_reset',
      status: 'queued',
      attempts: 0,
      nextAttemptAt: at(0),
      lastError: null,
      createdAt: at(0),
      sentAt: null,
    });
    const listed = await storage.mailOutbox.list({ to: 'ann@example.COM', limit: 10 });
    assert.deepEqual(
      listed.map((m) => m.id),
      [id],
    );
    await drain(at(0));
  });

  it('claims due messages once, counting an attempt, and not those due later', async () => {
    const now = at(1000);
    const a = await storage.mailOutbox.enqueue(mail(), now);
    const b = await storage.mailOutbox.enqueue(mail(), now);
    const later = await storage.mailOutbox.enqueue(mail(), at(5000));
    const claimed = await storage.mailOutbox.claimBatch({ now, limit: 10, leaseMs: LEASE });
    assert.deepEqual(
      claimed.map((c) => c.id),
      [a, b],
    );
    assert.ok(claimed.every((c) => c.status === 'sending' && c.attempts === 1));
    assert.deepEqual(claimed[0]!.claimedUntil, new Date(now.getTime() + LEASE));
    assert.match(claimed[0]!.text, /token=/);
    assert.deepEqual(await storage.mailOutbox.claimBatch({ now, limit: 10, leaseMs: LEASE }), []);
    for (const c of claimed) assert.equal(await storage.mailOutbox.markSent(c, now), true);
    const due = await storage.mailOutbox.claimBatch({ now: at(5000), limit: 10, leaseMs: LEASE });
    assert.deepEqual(
      due.map((c) => c.id),
      [later],
    );
    await storage.mailOutbox.markSent(due[0]!, at(5000));
  });

  it('claims at most the limit, oldest due first', async () => {
    const now = at(10_000);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await storage.mailOutbox.enqueue(mail(), at(9000 + i)));
    const first = await storage.mailOutbox.claimBatch({ now, limit: 2, leaseMs: LEASE });
    assert.deepEqual(
      first.map((c) => c.id),
      ids.slice(0, 2),
    );
    const rest = await storage.mailOutbox.claimBatch({ now, limit: 10, leaseMs: LEASE });
    assert.deepEqual(
      rest.map((c) => c.id),
      ids.slice(2),
    );
    for (const c of [...first, ...rest]) await storage.mailOutbox.markSent(c, now);
  });

  it('marks a message sent, clears its bodies (they may hold tokens) and never claims it again', async () => {
    const now = at(20_000);
    const id = await storage.mailOutbox.enqueue(mail(), now);
    const [claim] = await storage.mailOutbox.claimBatch({ now, limit: 10, leaseMs: LEASE });
    assert.equal(claim?.id, id);
    assert.equal(await storage.mailOutbox.markSent(claim, at(20_001)), true);
    const sent = await storage.mailOutbox.get(id);
    assert.equal(sent?.status, 'sent');
    assert.deepEqual(sent?.sentAt, at(20_001));
    assert.equal(sent?.text, null);
    assert.equal(sent?.html, null);
    const much = at(20_000 + 10 * LEASE);
    assert.deepEqual(
      await storage.mailOutbox.claimBatch({ now: much, limit: 10, leaseMs: LEASE }),
      [],
    );
  });

  it('puts a message back with its next attempt time and error, then claims it again when due', async () => {
    const now = at(30_000);
    const id = await storage.mailOutbox.enqueue(mail(), now);
    const [claim] = await storage.mailOutbox.claimBatch({ now, limit: 10, leaseMs: LEASE });
    assert.equal(
      await storage.mailOutbox.markRetry(claim!, {
        nextAttemptAt: at(35_000),
        error: 'connect ECONNREFUSED 127.0.0.1:2525',
      }),
      true,
    );
    const queued = await storage.mailOutbox.get(id);
    assert.equal(queued?.status, 'queued');
    assert.equal(queued?.attempts, 1);
    assert.deepEqual(queued?.nextAttemptAt, at(35_000));
    assert.equal(queued?.lastError, 'connect ECONNREFUSED 127.0.0.1:2525');
    assert.notEqual(queued?.text, null);
    assert.deepEqual(
      await storage.mailOutbox.claimBatch({ now: at(34_999), limit: 10, leaseMs: LEASE }),
      [],
    );
    const [again] = await storage.mailOutbox.claimBatch({
      now: at(35_000),
      limit: 10,
      leaseMs: LEASE,
    });
    assert.equal(again?.id, id);
    assert.equal(again?.attempts, 2);
    await storage.mailOutbox.markSent(again!, at(35_000));
  });

  it('marks a message failed with its error and clears its bodies', async () => {
    const now = at(40_000);
    const id = await storage.mailOutbox.enqueue(mail(), now);
    const [claim] = await storage.mailOutbox.claimBatch({ now, limit: 10, leaseMs: LEASE });
    assert.equal(await storage.mailOutbox.markFailed(claim!, { now, error: 'gave up' }), true);
    const failed = await storage.mailOutbox.get(id);
    assert.equal(failed?.status, 'failed');
    assert.equal(failed?.lastError, 'gave up');
    assert.equal(failed?.text, null);
    assert.deepEqual(
      (await storage.mailOutbox.list({ status: 'failed', limit: 10 })).map((m) => m.id),
      [id],
    );
  });

  it('marks a message logged (development) and keeps its bodies for `mail list`', async () => {
    const now = at(45_000);
    const message = mail();
    const id = await storage.mailOutbox.enqueue(message, now);
    const [claim] = await storage.mailOutbox.claimBatch({ now, limit: 10, leaseMs: LEASE });
    assert.equal(await storage.mailOutbox.markLogged(claim!, now), true);
    const logged = await storage.mailOutbox.get(id);
    assert.equal(logged?.status, 'logged');
    assert.equal(logged?.text, message.text);
  });

  it("reclaims a crashed sender's message once its lease expires; the old claim then changes nothing", async () => {
    const now = at(50_000);
    const id = await storage.mailOutbox.enqueue(mail(), now);
    const [stale] = await storage.mailOutbox.claimBatch({ now, limit: 10, leaseMs: LEASE });
    assert.deepEqual(
      await storage.mailOutbox.claimBatch({
        now: at(50_000 + LEASE - 1),
        limit: 10,
        leaseMs: LEASE,
      }),
      [],
    );
    const [fresh] = await storage.mailOutbox.claimBatch({
      now: at(50_000 + LEASE),
      limit: 10,
      leaseMs: LEASE,
    });
    assert.equal(fresh?.id, id);
    assert.equal(fresh?.attempts, 2);
    assert.notEqual(fresh?.claimToken, stale?.claimToken);
    assert.equal(
      await storage.mailOutbox.markRetry(stale!, { nextAttemptAt: now, error: 'x' }),
      false,
    );
    assert.equal(await storage.mailOutbox.markSent(stale!, now), false);
    assert.equal((await storage.mailOutbox.get(id))?.status, 'sending');
    assert.equal(await storage.mailOutbox.markSent(fresh!, at(50_000 + LEASE)), true);
  });

  it('of concurrent claimers, each due message goes to exactly one', async () => {
    const now = at(60_000);
    await drain(now);
    const ids = new Set<number>();
    for (let i = 0; i < 40; i++) ids.add(await storage.mailOutbox.enqueue(mail(), now));
    const claims = await Promise.all(
      Array.from({ length: 8 }, () =>
        storage.mailOutbox.claimBatch({ now, limit: 7, leaseMs: LEASE }),
      ),
    );
    const claimed = claims.flat().map((c) => c.id);
    assert.equal(claimed.length, new Set(claimed).size, 'no message claimed twice');
    const rest = await storage.mailOutbox.claimBatch({ now, limit: 100, leaseMs: LEASE });
    assert.deepEqual(new Set([...claimed, ...rest.map((c) => c.id)]), ids);
    for (const c of [...claims.flat(), ...rest]) await storage.mailOutbox.markSent(c, now);
  });

  it('counts messages by status and purges finished ones created before a time', async () => {
    const before = await storage.mailOutbox.countByStatus();
    const now = at(70_000);
    await storage.mailOutbox.enqueue(mail(), now);
    const counts = await storage.mailOutbox.countByStatus();
    assert.equal(counts.queued, before.queued + 1);
    assert.ok(counts.sent >= 1 && counts.failed >= 1 && counts.logged >= 1);
    const purged = await storage.mailOutbox.purgeFinished(at(70_000));
    assert.equal(purged, before.sent + before.failed + before.logged);
    const after = await storage.mailOutbox.countByStatus();
    assert.deepEqual(after, { queued: counts.queued, sending: 0, sent: 0, failed: 0, logged: 0 });
  });

  it('lists newest first, filtered by status, within the limit', async () => {
    const now = at(80_000);
    const a = await storage.mailOutbox.enqueue(mail({ kind: 'verify_email' }), now);
    const b = await storage.mailOutbox.enqueue(mail({ kind: 'verify_email' }), now);
    const listed = await storage.mailOutbox.list({ status: 'queued', limit: 2 });
    assert.deepEqual(
      listed.map((m) => m.id),
      [b, a],
    );
  });
}
