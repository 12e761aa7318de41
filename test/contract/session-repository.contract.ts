import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { User } from '../../src/domain/accounts/user.ts';
import type { Session } from '../../src/domain/sessions/session.ts';
import type { Storage } from '../../src/storage/open-storage.ts';
import { firstRefreshToken } from '../support/contract-store.ts';

const T0 = new Date('2030-06-01T12:00:00.000Z');
// Every user of this suite has this hash, so `session()` opens sessions as a login would.
const HASH = '$argon2id$x';
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** The SessionRepository port's contract, run against every store (storage.test.ts). */
export function sessionRepositoryContract(open: () => Promise<Storage>): void {
  let storage: Storage;
  let user: User;
  let other: User;
  let n = 0;

  before(async () => {
    storage = await open();
    user = await storage.users.create({
      email: 'sessions@example.com',
      passwordHash: HASH,
      role: 'user',
      createdAt: T0,
    });
    other = await storage.users.create({
      email: 'other@example.com',
      passwordHash: HASH,
      role: 'user',
      createdAt: T0,
    });
  });
  after(() => storage?.close());

  function sessionFields(overrides: Partial<Session> = {}): Session {
    n += 1;
    return {
      id: randomUUID(),
      userId: user.id,
      createdAt: later(n),
      lastUsedAt: later(n),
      expiresAt: later(3600),
      revokedAt: null,
      userAgent: `agent ${n}`,
      ip: '127.0.0.1',
      scope: 'me',
      ...overrides,
    };
  }

  /** A new session, opened as a login does: over HASH, with its first refresh token. */
  async function session(
    overrides: Partial<Session> = {},
    into = storage,
    firstHash?: string,
  ): Promise<Session> {
    const s = sessionFields(overrides);
    assert.equal(await into.sessions.create(s, HASH, firstRefreshToken(s, firstHash)), true);
    return s;
  }

  /** A new session of `user` whose first refresh token is hashed `${prefix}-${session id}`. */
  async function sessionWithToken(prefix: string): Promise<{ s: Session; hash: string }> {
    const id = randomUUID();
    const hash = `${prefix}-${id}`;
    const s = await session({ id }, storage, hash);
    return { s, hash };
  }

  let successors = 0;
  /**
   * Rotates `hash` as the refresh grant does: a successor of its own, the session slid to
   * later(3600). The app spends refresh tokens only this way (services.rotateRefreshToken).
   */
  function rotate(hash: string, now: Date, sealedChild?: string, into = storage) {
    successors += 1;
    const successor = {
      hash: `${hash}-next-${successors}`,
      createdAt: now,
      expiresAt: later(3600),
    };
    return into.sessions.rotateRefreshToken(hash, now, successor, later(3600), sealedChild);
  }

  async function newOwner(email: string, into = storage): Promise<User> {
    return into.users.create({ email, passwordHash: HASH, role: 'user', createdAt: T0 });
  }

  it('opens a session only while its user exists, is enabled and holds the verified hash', async () => {
    const owner = await newOwner('open-sessions@example.com');
    const opened = await session({ userId: owner.id });
    const refused = (verifiedHash: string) => {
      const s = { ...opened, id: randomUUID() };
      return storage.sessions.create(s, verifiedHash, firstRefreshToken(s));
    };
    assert.equal(await refused('$argon2id$older'), false);
    await storage.users.changeAccess(owner.id, { disabled: true }, T0);
    assert.equal(await refused(HASH), false);
    await storage.users.changeAccess(owner.id, { disabled: false }, T0);
    assert.equal(await storage.users.updatePasswordHash(owner.id, '$argon2id$newer', HASH), true);
    assert.equal(await refused(HASH), false);
    assert.deepEqual(
      (await storage.sessions.listActive(owner.id, T0)).map((s) => s.id),
      [opened.id],
    );
    assert.equal((await storage.users.delete(owner.id)).outcome, 'deleted');
    assert.equal(await refused('$argon2id$newer'), false);
  });

  it('opens a session with its first refresh token, both in one commit', async () => {
    const s = sessionFields();
    const first = { hash: `first-${s.id}`, createdAt: T0, expiresAt: later(3600) };
    assert.equal(await storage.sessions.create(s, HASH, first), true);
    assert.deepEqual(
      (await storage.sessions.listActive(user.id, T0)).map((x) => x.id).includes(s.id),
      true,
    );
    const consumed = await rotate(first.hash, T0);
    assert.equal(consumed.outcome, 'consumed');
    assert.equal(consumed.outcome === 'consumed' && consumed.sessionId, s.id);
  });

  it('stores neither the session nor its first refresh token when the session is refused', async () => {
    const s = sessionFields();
    const first = { hash: `refused-${s.id}`, createdAt: T0, expiresAt: later(3600) };
    assert.equal(await storage.sessions.create(s, '$argon2id$older', first), false);
    assert.equal(await storage.sessions.findRefreshTokenSession(first.hash), undefined);
    assert.equal(
      (await storage.sessions.listActive(user.id, T0)).some((x) => x.id === s.id),
      false,
    );
  });

  it('leaves neither row behind when storing the first refresh token fails after the session', async () => {
    // A first token whose hash is already stored (another session's) fails its insert: handing
    // it out would give the client that other session's token. The session goes with it.
    const taken = await sessionWithToken('taken');
    const s = sessionFields();
    await assert.rejects(
      storage.sessions.create(s, HASH, { hash: taken.hash, createdAt: T0, expiresAt: later(60) }),
    );
    assert.equal(
      (await storage.sessions.listActive(user.id, T0)).some((x) => x.id === s.id),
      false,
    );
    assert.deepEqual(await storage.sessions.findRefreshTokenSession(taken.hash), {
      sessionId: taken.s.id,
      userId: user.id,
      endReason: null,
    });
  });

  it('of 20 concurrent session opens and a password change, none stays active after it', async () => {
    const owner = await newOwner('open-vs-change@example.com');
    const opens = Array.from({ length: 20 }, () => {
      const s = { ...sessionFields(), userId: owner.id };
      return storage.sessions.create(s, HASH, firstRefreshToken(s));
    });
    // As a password change does it: the new hash first, then every session ends.
    const change = (async () => {
      assert.equal(await storage.users.updatePasswordHash(owner.id, '$argon2id$new', HASH), true);
      await storage.sessions.revokeAllForUser(owner.id, T0, 'password_changed');
    })();
    await Promise.all([...opens, change]);
    assert.deepEqual(await storage.sessions.listActive(owner.id, T0), []);
  });

  it('stores no refresh token for a session deleted with its user, and says so', async () => {
    const owner = await newOwner('refresh-after-delete@example.com');
    const s = await session({ userId: owner.id });
    await storage.users.delete(owner.id);
    const token = { hash: `gone-${s.id}`, sessionId: s.id, createdAt: T0, expiresAt: later(60) };
    assert.equal(await storage.sessions.addRefreshToken(token), false);
    assert.deepEqual(await rotate(token.hash, T0), { outcome: 'unknown' });
  });

  it('finds an active session with its user, scope and last use; nothing for a wrong user or id', async () => {
    const s = await session({ scope: '*' });
    const found = await storage.sessions.findActive(s.id, user.id, T0);
    assert.equal(found?.user.id, user.id);
    assert.equal(found?.scope, '*');
    assert.equal(found?.lastUsedAt.toISOString(), s.lastUsedAt.toISOString());
    assert.equal(await storage.sessions.findActive(s.id, other.id, T0), undefined);
    assert.equal(await storage.sessions.findActive(randomUUID(), user.id, T0), undefined);
  });

  it('finds nothing once the session expired or was revoked', async () => {
    const s = await session({ expiresAt: later(100) });
    assert.ok(await storage.sessions.findActive(s.id, user.id, later(99)));
    assert.equal(await storage.sessions.findActive(s.id, user.id, later(100)), undefined);
    const revoked = await session({ revokedAt: T0 });
    assert.equal(await storage.sessions.findActive(revoked.id, user.id, T0), undefined);
  });

  it('finds nothing while the user is disabled, and the session again once re-enabled', async () => {
    const owner = await storage.users.create({
      email: 'disabled-sessions@example.com',
      passwordHash: HASH,
      role: 'user',
      createdAt: T0,
    });
    const s = await session({ userId: owner.id });
    assert.ok(await storage.sessions.findActive(s.id, owner.id, T0));
    await storage.users.changeAccess(owner.id, { disabled: true }, T0);
    assert.equal(await storage.sessions.findActive(s.id, owner.id, T0), undefined);
    await storage.users.changeAccess(owner.id, { disabled: false }, T0);
    assert.equal((await storage.sessions.findActive(s.id, owner.id, T0))?.user.id, owner.id);
  });

  it('touch records the last use and, when given, a new expiry', async () => {
    const s = await session({ expiresAt: later(100) });
    await storage.sessions.touch(s.id, later(50), later(500));
    const found = await storage.sessions.findActive(s.id, user.id, later(400));
    assert.equal(found?.lastUsedAt.toISOString(), later(50).toISOString());
  });

  it('touch without an expiry keeps the old one', async () => {
    const s = await session({ expiresAt: later(100) });
    await storage.sessions.touch(s.id, later(60));
    assert.equal(
      (await storage.sessions.findActive(s.id, user.id, later(99)))?.lastUsedAt.toISOString(),
      later(60).toISOString(),
    );
    assert.equal(await storage.sessions.findActive(s.id, user.id, later(100)), undefined);
  });

  it("revokes one of the user's sessions, never another user's, and only once", async () => {
    const mine = await session();
    const theirs = await session({ userId: other.id });
    assert.equal(await storage.sessions.revoke(theirs.id, user.id, T0, 'ended_elsewhere'), false);
    assert.ok(await storage.sessions.findActive(theirs.id, other.id, T0));
    assert.equal(await storage.sessions.revoke(mine.id, user.id, T0, 'ended_elsewhere'), true);
    assert.equal(await storage.sessions.findActive(mine.id, user.id, T0), undefined);
    assert.equal(await storage.sessions.revoke(mine.id, user.id, T0, 'ended_elsewhere'), false);
    assert.equal(await storage.sessions.revoke(randomUUID(), user.id, T0, 'signed_out'), false);
    const expired = await session({ expiresAt: later(10) });
    assert.equal(
      await storage.sessions.revoke(expired.id, user.id, later(10), 'ended_elsewhere'),
      false,
    );
  });

  it('lists the active sessions newest first and revokes all but one', async () => {
    const fresh = await storage.users.create({
      email: 'list-sessions@example.com',
      passwordHash: HASH,
      role: 'user',
      createdAt: T0,
    });
    const a = await session({ userId: fresh.id, createdAt: later(1) });
    const b = await session({ userId: fresh.id, createdAt: later(2) });
    await session({ userId: fresh.id, expiresAt: later(5) });
    await session({ userId: fresh.id, revokedAt: T0 });
    const listed = await storage.sessions.listActive(fresh.id, later(10));
    assert.deepEqual(
      listed.map((s) => s.id),
      [b.id, a.id],
    );
    assert.equal(listed[0]?.userAgent, b.userAgent);
    // Only b was still active besides a: expired and revoked sessions are not counted.
    assert.equal(
      await storage.sessions.revokeAllForUser(fresh.id, later(10), 'password_changed', a.id),
      1,
    );
    assert.deepEqual(
      (await storage.sessions.listActive(fresh.id, later(10))).map((s) => s.id),
      [a.id],
    );
    assert.equal(await storage.sessions.revokeAllForUser(fresh.id, later(10), 'admin'), 1);
    assert.deepEqual(await storage.sessions.listActive(fresh.id, later(10)), []);
  });

  it("stores the winner's sealed child with the token: of 10 concurrent callers every loser sees it", async () => {
    const { hash } = await sessionWithToken('sealed');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => rotate(hash, T0, `child-${i}`)),
    );
    const winner = results.findIndex((r) => r.outcome === 'consumed');
    assert.notEqual(winner, -1);
    for (const r of results.filter((x) => x.outcome !== 'consumed')) {
      assert.equal(r.outcome, 'already_used');
      if (r.outcome === 'already_used') assert.equal(r.sealedChild, `child-${winner}`);
    }
    // Without a sealed child (strict mode) there is nothing to hand back.
    const strict = await session();
    await storage.sessions.addRefreshToken({
      hash: `strict-${strict.id}`,
      sessionId: strict.id,
      createdAt: T0,
      expiresAt: later(3600),
    });
    await rotate(`strict-${strict.id}`, T0);
    const again = await rotate(`strict-${strict.id}`, T0, 'x');
    assert.equal(again.outcome === 'already_used' && again.sealedChild, null);
  });

  it('rotates a refresh token in one step: consumed, successor stored, session slid forward', async () => {
    const { s, hash } = await sessionWithToken('rot');
    const successor = { hash: `rot-next-${s.id}`, createdAt: later(5), expiresAt: later(7200) };
    const result = await storage.sessions.rotateRefreshToken(
      hash,
      later(5),
      successor,
      later(7200),
      'sealed',
    );
    assert.equal(result.outcome, 'consumed');
    assert.equal(result.outcome === 'consumed' && result.sessionId, s.id);
    const active = await storage.sessions.findActive(s.id, user.id, later(5));
    assert.equal(active?.lastUsedAt.toISOString(), later(5).toISOString());
    const listed = (await storage.sessions.listActive(user.id, later(5))).find(
      (x) => x.id === s.id,
    );
    assert.equal(listed?.expiresAt.toISOString(), later(7200).toISOString());
    // The successor belongs to the consumed token's session and works once.
    assert.equal((await rotate(successor.hash, later(6))).outcome, 'consumed');
    const replay = await storage.sessions.rotateRefreshToken(
      hash,
      later(7),
      { hash: `rot-other-${s.id}`, createdAt: later(7), expiresAt: later(7200) },
      later(7200),
    );
    assert.equal(replay.outcome, 'already_used');
    assert.equal(replay.outcome === 'already_used' && replay.sealedChild, 'sealed');
    // A caller that did not consume stores nothing.
    assert.equal(await storage.sessions.findRefreshTokenSession(`rot-other-${s.id}`), undefined);
  });

  it('rotates all or nothing: a failure after the consume leaves the token unused and the session as it was', async () => {
    const { s, hash } = await sessionWithToken('atomic');
    // An expiry that can't be stored fails the successor's insert, after the consume and touch.
    const broken = { hash: `atomic-next-${s.id}`, createdAt: later(5), expiresAt: new Date(NaN) };
    await assert.rejects(
      storage.sessions.rotateRefreshToken(hash, later(5), broken, later(7200), 'sealed'),
    );
    assert.equal(await storage.sessions.findRefreshTokenSession(broken.hash), undefined);
    const active = await storage.sessions.findActive(s.id, user.id, later(5));
    assert.equal(active?.lastUsedAt.toISOString(), s.lastUsedAt.toISOString());
    const listed = (await storage.sessions.listActive(user.id, later(5))).find(
      (x) => x.id === s.id,
    );
    assert.equal(listed?.expiresAt.toISOString(), s.expiresAt.toISOString());
    // The retry rotates it: the token was never spent.
    const retry = await storage.sessions.rotateRefreshToken(
      hash,
      later(6),
      { ...broken, expiresAt: later(7200) },
      later(7200),
    );
    assert.equal(retry.outcome, 'consumed');
  });

  it('rotates a refresh token once: of 10 concurrent callers one consumes, with its session, and only its successor is stored', async () => {
    const { s, hash } = await sessionWithToken('rot-race');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        storage.sessions.rotateRefreshToken(
          hash,
          T0,
          { hash: `rot-race-${i}-${s.id}`, createdAt: T0, expiresAt: later(3600) },
          later(3600),
        ),
      ),
    );
    const winners = results.flatMap((r, i) => (r.outcome === 'consumed' ? [i] : []));
    assert.equal(winners.length, 1);
    const winner = results[winners[0]!];
    assert.ok(winner?.outcome === 'consumed');
    assert.equal(winner.sessionId, s.id);
    assert.equal(winner.userId, user.id);
    assert.equal(winner.session.user.id, user.id);
    assert.equal(winner.session.scope, s.scope);
    for (const [i, r] of results.entries()) {
      const stored = await storage.sessions.findRefreshTokenSession(`rot-race-${i}-${s.id}`);
      assert.equal(stored !== undefined, i === winners[0]);
      if (i === winners[0]) continue;
      assert.equal(r.outcome, 'already_used');
      assert.equal(r.outcome === 'already_used' && r.usedAt.toISOString(), T0.toISOString());
    }
  });

  it('adds a refresh token idempotently: a second add, even concurrent, changes nothing', async () => {
    const s = await session();
    const token = { hash: `twice-${s.id}`, sessionId: s.id, createdAt: T0, expiresAt: later(3600) };
    await Promise.all([
      storage.sessions.addRefreshToken(token),
      storage.sessions.addRefreshToken(token),
    ]);
    assert.equal((await rotate(token.hash, T0)).outcome, 'consumed');
    // Adding it again after use does not make it fresh: it stays used.
    await storage.sessions.addRefreshToken({ ...token, expiresAt: later(7200) });
    const replay = await rotate(token.hash, later(1));
    assert.equal(replay.outcome, 'already_used');
  });

  it('erases the sealed children of tokens used before a time, and keeps their use on record', async () => {
    const s = await session();
    for (const [name, usedAt] of [
      ['old', later(10)],
      ['new', later(100)],
    ] as const) {
      await storage.sessions.addRefreshToken({
        hash: `${name}-${s.id}`,
        sessionId: s.id,
        createdAt: T0,
        expiresAt: later(3600),
      });
      await rotate(`${name}-${s.id}`, usedAt, `sealed-${name}`);
    }
    assert.ok((await storage.sessions.eraseSealedChildren(later(50))) >= 1);
    const old = await rotate(`old-${s.id}`, later(120));
    const fresh = await rotate(`new-${s.id}`, later(120));
    assert.equal(old.outcome === 'already_used' && old.sealedChild, null);
    assert.equal(
      old.outcome === 'already_used' && old.usedAt.toISOString(),
      later(10).toISOString(),
    );
    assert.equal(fresh.outcome === 'already_used' && fresh.sealedChild, 'sealed-new');
  });

  it('does not rotate a token whose session has ended (it is unknown)', async () => {
    const s = await session();
    await storage.sessions.addRefreshToken({
      hash: `ended-${s.id}`,
      sessionId: s.id,
      createdAt: T0,
      expiresAt: later(3600),
    });
    assert.equal(await storage.sessions.revoke(s.id, user.id, T0, 'ended_elsewhere'), true);
    assert.deepEqual(await rotate(`ended-${s.id}`, T0), { outcome: 'unknown' });
  });

  it('finds the session of a fresh, used or expired refresh token without consuming it', async () => {
    const s = await session();
    for (const [hash, expiresAt] of [
      [`find-fresh-${s.id}`, later(3600)],
      [`find-used-${s.id}`, later(3600)],
      [`find-expired-${s.id}`, later(5)],
    ] as const) {
      await storage.sessions.addRefreshToken({ hash, sessionId: s.id, createdAt: T0, expiresAt });
    }
    await rotate(`find-used-${s.id}`, T0);
    const expected = { sessionId: s.id, userId: user.id, endReason: null };
    assert.deepEqual(
      await storage.sessions.findRefreshTokenSession(`find-fresh-${s.id}`),
      expected,
    );
    assert.deepEqual(await storage.sessions.findRefreshTokenSession(`find-used-${s.id}`), expected);
    assert.deepEqual(
      await storage.sessions.findRefreshTokenSession(`find-expired-${s.id}`),
      expected,
    );
    assert.equal(await storage.sessions.findRefreshTokenSession('no-such-hash'), undefined);
    // A read only: the fresh token can still be rotated.
    const consumed = await rotate(`find-fresh-${s.id}`, T0);
    assert.equal(consumed.outcome, 'consumed');
  });

  it('remembers why a session ended, first reason kept, and tells it by any of its refresh tokens', async () => {
    const reasons = [
      'signed_out',
      'ended_elsewhere',
      'admin',
      'reuse_detected',
      'revoked',
    ] as const;
    for (const reason of reasons) {
      const s = await session();
      await storage.sessions.addRefreshToken({
        hash: `why-${s.id}`,
        sessionId: s.id,
        createdAt: T0,
        expiresAt: later(3600),
      });
      assert.equal(await storage.sessions.revoke(s.id, user.id, T0, reason), true);
      // Ending it again changes nothing, not even the reason.
      assert.equal(await storage.sessions.revoke(s.id, user.id, T0, 'password_changed'), false);
      assert.deepEqual(await storage.sessions.findRefreshTokenSession(`why-${s.id}`), {
        sessionId: s.id,
        userId: user.id,
        endReason: reason,
      });
    }
    const owner = await storage.users.create({
      email: 'why-all@example.com',
      passwordHash: HASH,
      role: 'user',
      createdAt: T0,
    });
    const kept = await session({ userId: owner.id });
    const ended = await session({ userId: owner.id });
    for (const s of [kept, ended]) {
      await storage.sessions.addRefreshToken({
        hash: `why-all-${s.id}`,
        sessionId: s.id,
        createdAt: T0,
        expiresAt: later(3600),
      });
    }
    await storage.sessions.revokeAllForUser(owner.id, T0, 'password_changed', kept.id);
    assert.equal(
      (await storage.sessions.findRefreshTokenSession(`why-all-${ended.id}`))?.endReason,
      'password_changed',
    );
    assert.equal(
      (await storage.sessions.findRefreshTokenSession(`why-all-${kept.id}`))?.endReason,
      null,
    );
  });

  it('reports unknown and expired refresh tokens as unknown', async () => {
    const s = await session();
    await storage.sessions.addRefreshToken({
      hash: `exp-${s.id}`,
      sessionId: s.id,
      createdAt: T0,
      expiresAt: later(10),
    });
    assert.deepEqual(await rotate('no-such-hash', T0), { outcome: 'unknown' });
    assert.deepEqual(await rotate(`exp-${s.id}`, later(10)), { outcome: 'unknown' });
  });

  it('purges expired and long-revoked sessions with their refresh tokens, and only those', async () => {
    // Its own store, so the counts are exact whatever the other tests left behind.
    const own = await open();
    try {
      const owner = await own.users.create({
        email: 'purge@example.com',
        passwordHash: HASH,
        role: 'user',
        createdAt: T0,
      });
      const into = { userId: owner.id };
      const expired = await session({ ...into, expiresAt: later(10) }, own);
      await session({ ...into, revokedAt: T0 }, own);
      const live = await session({ ...into, expiresAt: later(100_000) }, own);
      // Revoked 50 s before the purge, inside the 100 s retention.
      await session({ ...into, revokedAt: later(150), expiresAt: later(100_000) }, own);
      await own.sessions.addRefreshToken({
        hash: `p-${expired.id}`,
        sessionId: expired.id,
        createdAt: T0,
        expiresAt: later(100_000),
      });

      assert.equal(await own.sessions.purgeEnded(later(200), 100), 2);
      assert.deepEqual(await rotate(`p-${expired.id}`, T0, undefined, own), {
        outcome: 'unknown',
      });
      assert.equal(await own.sessions.purgeEnded(later(200), 100), 0, 'nothing left to purge');
      // Once its retention has passed, the recently revoked one goes too; the live one stays.
      assert.equal(await own.sessions.purgeEnded(later(250), 100), 1);
      assert.deepEqual(
        (await own.sessions.listActive(owner.id, later(250))).map((s) => s.id),
        [live.id],
      );
    } finally {
      await own.close();
    }
  });
}
