import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import type { User } from '../../src/domain/accounts/user.ts';
import { newMailToken, type MailTokenPurpose } from '../../src/domain/email/mail-token.ts';
import { isGatehouseError } from '../../src/domain/errors.ts';
import type { Storage } from '../../src/storage/open-storage.ts';
import { contractStore, firstRefreshToken, later, T0 } from '../support/contract-store.ts';

const HASH = '$argon2id$mail-contract';

/** The MailTokenRepository port's contract, run against every store (storage.test.ts). */
export function mailTokenRepositoryContract(open: () => Promise<Storage>): void {
  const store = contractStore(open, 'mail', HASH);

  async function issue(user: User, purpose: MailTokenPurpose, email = user.email, ttl = 600) {
    const { hash } = newMailToken();
    const issued = await store.storage.mailTokens.issue(
      { hash, userId: user.id, purpose, email, createdAt: T0, expiresAt: later(ttl) },
      [],
    );
    assert.equal(issued, true);
    return hash;
  }

  async function openSession(user: User, passwordHash = HASH): Promise<string> {
    const session = {
      id: randomUUID(),
      userId: user.id,
      createdAt: T0,
      lastUsedAt: T0,
      expiresAt: later(86_400),
      revokedAt: null,
      userAgent: null,
      ip: null,
      scope: 'me',
    };
    const opened = await store.storage.sessions.create(
      session,
      passwordHash,
      firstRefreshToken(session),
    );
    assert.equal(opened, true);
    return session.id;
  }

  it('stores a token that is live until it expires, and only for its purpose', async () => {
    const user = await store.newUser();
    const hash = await issue(user, 'verify_email', user.email, 60);
    const live = await store.storage.mailTokens.findLive(hash, 'verify_email', later(59));
    assert.deepEqual(live, {
      userId: user.id,
      purpose: 'verify_email',
      email: user.email,
      expiresAt: later(60),
    });
    assert.equal(
      await store.storage.mailTokens.findLive(hash, 'password_reset', later(1)),
      undefined,
    );
    assert.equal(
      await store.storage.mailTokens.findLive(hash, 'verify_email', later(60)),
      undefined,
    );
  });

  it('refuses to issue for a user that does not exist', async () => {
    const { hash } = newMailToken();
    const issued = await store.storage.mailTokens.issue(
      {
        hash,
        userId: 2_000_000_000,
        purpose: 'password_reset',
        email: 'ghost@example.com',
        createdAt: T0,
        expiresAt: later(60),
      },
      [],
    );
    assert.equal(issued, false);
    assert.equal(await store.storage.mailTokens.findLive(hash, 'password_reset', T0), undefined);
  });

  it('voids the older token of the same purpose when a newer one is issued, not others', async () => {
    const user = await store.newUser();
    const older = await issue(user, 'password_reset');
    const verify = await issue(user, 'verify_email');
    const newer = await issue(user, 'password_reset');
    assert.equal(await store.storage.mailTokens.findLive(older, 'password_reset', T0), undefined);
    assert.ok(await store.storage.mailTokens.findLive(newer, 'password_reset', T0));
    assert.ok(await store.storage.mailTokens.findLive(verify, 'verify_email', T0));
  });

  it('voids the unused tokens of one user and purpose, not other purposes or users', async () => {
    const user = await store.newUser();
    const other = await store.newUser();
    const reset = await issue(user, 'password_reset');
    const verify = await issue(user, 'verify_email');
    const othersReset = await issue(other, 'password_reset');
    assert.equal(await store.storage.mailTokens.voidUnused(user.id, 'password_reset', T0), 1);
    assert.equal(await store.storage.mailTokens.findLive(reset, 'password_reset', T0), undefined);
    assert.ok(await store.storage.mailTokens.findLive(verify, 'verify_email', T0));
    assert.ok(await store.storage.mailTokens.findLive(othersReset, 'password_reset', T0));
    assert.equal(await store.storage.mailTokens.voidUnused(user.id, 'password_reset', T0), 0);
  });

  it('leaves exactly one live token of concurrent issues for one user and purpose', async () => {
    const user = await store.newUser();
    const hashes = await Promise.all(
      Array.from({ length: 8 }, () => issue(user, 'password_reset')),
    );
    const live = await Promise.all(
      hashes.map((h) => store.storage.mailTokens.findLive(h, 'password_reset', T0)),
    );
    assert.equal(live.filter(Boolean).length, 1);
  });

  it('verifies the address once; a used, expired or foreign-purpose token changes nothing', async () => {
    const user = await store.newUser();
    const hash = await issue(user, 'verify_email', user.email, 60);
    assert.equal(await store.storage.mailTokens.confirmVerification(hash, later(61)), undefined);
    assert.equal((await store.storage.users.findById(user.id))?.emailVerified, false);
    const reset = await issue(user, 'password_reset');
    assert.equal(await store.storage.mailTokens.confirmVerification(reset, T0), undefined);
    const verified = await store.storage.mailTokens.confirmVerification(hash, later(1));
    assert.equal(verified?.id, user.id);
    assert.equal(verified?.emailVerified, true);
    assert.equal((await store.storage.users.findById(user.id))?.emailVerified, true);
    assert.equal(await store.storage.mailTokens.confirmVerification(hash, later(2)), undefined);
  });

  it('lets exactly one of concurrent consumers of one reset token win', async () => {
    const user = await store.newUser();
    const hash = await issue(user, 'password_reset');
    const results = await Promise.all(
      ['$argon2id$a', '$argon2id$b', '$argon2id$c', '$argon2id$d'].map((h) =>
        store.storage.mailTokens.resetPassword(hash, h, later(1), []),
      ),
    );
    assert.equal(results.filter(Boolean).length, 1);
    const stored = await store.storage.users.findByEmailForLogin(user.email);
    assert.notEqual(stored?.passwordHash, HASH);
  });

  it('resets the password and ends every session of the user, no one else’s', async () => {
    const user = await store.newUser();
    const bystander = await store.newUser();
    const sessions = [await openSession(user), await openSession(user)];
    const theirs = await openSession(bystander);
    const hash = await issue(user, 'password_reset');
    const reset = await store.storage.mailTokens.resetPassword(hash, '$argon2id$new', later(1), []);
    assert.equal(reset?.id, user.id);
    assert.equal(
      (await store.storage.users.findByEmailForLogin(user.email))?.passwordHash,
      '$argon2id$new',
    );
    for (const id of sessions) {
      assert.equal(await store.storage.sessions.findActive(id, user.id, later(2)), undefined);
    }
    assert.ok(await store.storage.sessions.findActive(theirs, bystander.id, later(2)));
    // A login that verified the old hash can no longer open a session.
    const late = {
      id: randomUUID(),
      userId: user.id,
      createdAt: later(3),
      lastUsedAt: later(3),
      expiresAt: later(86_400),
      revokedAt: null,
      userAgent: null,
      ip: null,
      scope: 'me',
    };
    assert.equal(await store.storage.sessions.create(late, HASH, firstRefreshToken(late)), false);
    assert.equal(
      await store.storage.mailTokens.resetPassword(hash, '$argon2id$again', later(4), []),
      undefined,
    );
  });

  it('changes the address and marks it verified; a taken address leaves the token unused', async () => {
    const user = await store.newUser();
    const rival = await store.newUser();
    const hash = await issue(user, 'email_change', 'Moved@Example.com');
    // Someone registers the new address first: uniqueness is checked again at confirmation.
    const squatter = await store.storage.users.create({
      email: 'moved@example.com',
      passwordHash: HASH,
      role: 'user',
      createdAt: T0,
    });
    await assert.rejects(store.storage.mailTokens.changeEmail(hash, later(1)), (error) =>
      isGatehouseError(error, 'email_taken'),
    );
    assert.ok(
      await store.storage.mailTokens.findLive(hash, 'email_change', later(1)),
      'still unused',
    );
    assert.equal((await store.storage.users.findById(user.id))?.email, user.email);
    // Once the address is free again the same link works.
    assert.equal((await store.storage.users.delete(squatter.id)).outcome, 'deleted');
    const result = await store.storage.mailTokens.changeEmail(hash, later(2));
    assert.equal(result.outcome, 'changed');
    assert.equal((await store.storage.users.findById(user.id))?.email, 'Moved@Example.com');
    assert.equal((await store.storage.users.findById(user.id))?.emailVerified, true);
    assert.equal((await store.storage.mailTokens.changeEmail(hash, later(3))).outcome, 'invalid');
    assert.equal((await store.storage.users.findById(rival.id))?.email, rival.email);
  });

  it('lets one of two users confirming a change to one address at once have it', async () => {
    const a = await store.newUser();
    const b = await store.newUser();
    const target = `contested-${b.id}@example.com`;
    const [ha, hb] = [
      await issue(a, 'email_change', target),
      await issue(b, 'email_change', target),
    ];
    const results = await Promise.allSettled([
      store.storage.mailTokens.changeEmail(ha, later(1)),
      store.storage.mailTokens.changeEmail(hb, later(1)),
    ]);
    const changed = results.filter(
      (r) => r.status === 'fulfilled' && r.value.outcome === 'changed',
    );
    const taken = results.filter(
      (r) => r.status === 'rejected' && isGatehouseError(r.reason, 'email_taken'),
    );
    assert.equal(changed.length, 1);
    assert.equal(taken.length, 1);
  });

  it('voids a reset or verification link once the address it went to is left', async () => {
    const user = await store.newUser();
    const reset = await issue(user, 'password_reset');
    const verify = await issue(user, 'verify_email');
    const change = await issue(user, 'email_change', `left-${user.id}@example.com`);
    assert.equal((await store.storage.mailTokens.changeEmail(change, later(1))).outcome, 'changed');
    assert.equal(
      await store.storage.mailTokens.resetPassword(reset, '$argon2id$z', later(2), []),
      undefined,
    );
    assert.equal(await store.storage.mailTokens.confirmVerification(verify, later(2)), undefined);
  });

  it('stores a registration and its verification token together', async () => {
    const { hash } = newMailToken();
    const user = await store.storage.users.create(
      {
        email: `registered-${randomUUID()}@example.com`,
        passwordHash: HASH,
        role: 'user',
        createdAt: T0,
      },
      { tokenHash: hash, expiresAt: later(60), mail: [] },
    );
    assert.equal(user.emailVerified, false);
    assert.equal(
      (await store.storage.mailTokens.findLive(hash, 'verify_email', T0))?.userId,
      user.id,
    );
    // A duplicate registration stores neither the user nor a token.
    const second = newMailToken();
    await assert.rejects(
      store.storage.users.create(
        { email: user.email.toUpperCase(), passwordHash: HASH, role: 'user', createdAt: T0 },
        { tokenHash: second.hash, expiresAt: later(60), mail: [] },
      ),
      (error) => isGatehouseError(error, 'email_taken'),
    );
    assert.equal(
      await store.storage.mailTokens.findLive(second.hash, 'verify_email', T0),
      undefined,
    );
  });

  it('purges expired and used tokens', async () => {
    const user = await store.newUser();
    const hash = await issue(user, 'verify_email', user.email, 60);
    assert.ok((await store.storage.mailTokens.purge(later(120))) >= 1);
    assert.equal(await store.storage.mailTokens.findLive(hash, 'verify_email', T0), undefined);
  });
}
