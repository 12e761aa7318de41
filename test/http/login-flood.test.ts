import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FORM, registerAndLogin, STRONG_PASSWORD } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

const FLOOD = 200;
const QUEUE_LIMIT = 50;

describe('a flood of 200 concurrent logins', () => {
  let t: TestApp;
  let emails: string[];
  before(async () => {
    t = await createTestApp({
      env: { GATEHOUSE_HASH_CONCURRENCY: '2', GATEHOUSE_HASH_QUEUE_LIMIT: String(QUEUE_LIMIT) },
    });
    // 200 distinct accounts (one hash shared, inserted directly) so the per-account throttle
    // stays out of the way and only the hashing bound is at work.
    const { email: first } = await registerAndLogin(t.app);
    const { passwordHash } = (await t.storage.users.findByEmailForLogin(first))!;
    emails = [];
    for (let i = 0; i < FLOOD; i++) {
      const user = await t.storage.users.create({
        email: `flood-${i}@example.com`,
        passwordHash,
        role: 'user',
        createdAt: new Date(),
      });
      emails.push(user.email);
    }
  });
  after(() => t.close());

  it('bounds the hashing queue, sheds the excess with 503 + Retry-After, and keeps /users/me/ answering', async () => {
    const { accessToken } = await registerAndLogin(t.app);
    let maxQueued = 0;
    const sampler = setInterval(
      () => (maxQueued = Math.max(maxQueued, t.services.loadStats().hashing.queued)),
      1,
    );
    const finished: string[] = [];
    const logins = emails.map((email) =>
      t.app
        .inject({
          method: 'POST',
          url: '/token',
          headers: FORM,
          payload: new URLSearchParams({ username: email, password: STRONG_PASSWORD }).toString(),
        })
        .then((response) => {
          finished.push('login');
          return response;
        }),
    );
    // A read issued in the middle of the flood is answered before the flood has drained: the
    // hashing runs off the event loop and waits in its own bounded queue.
    await new Promise((resolve) => setImmediate(resolve));
    const me = await t.app.inject({
      method: 'GET',
      url: '/users/me/',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    finished.push('me');
    const responses = await Promise.all(logins);
    clearInterval(sampler);

    assert.equal(me.statusCode, 200);
    assert.ok(
      finished.indexOf('me') < finished.length - 1,
      'the read did not wait for every login',
    );
    const statuses = responses.map((r) => r.statusCode);
    assert.deepEqual(
      [...new Set(statuses)].sort(),
      [200, 503],
      `statuses: ${[...new Set(statuses)]}`,
    );
    for (const shed of responses.filter((r) => r.statusCode === 503)) {
      assert.equal(shed.json().code, 'hashing_overloaded');
      assert.ok(Number(shed.headers['retry-after']) >= 1);
    }
    assert.ok(maxQueued <= QUEUE_LIMIT, `queue peaked at ${maxQueued}`);
    const { hashing } = t.services.loadStats();
    assert.ok(hashing.running === 0 && hashing.queued === 0);
  });
});
