import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ManualClock } from '../../src/domain/clock.ts';
import { WorkLimiter } from '../../src/domain/passwords/work-limiter.ts';
import { FORM, STRONG_PASSWORD, uniqueEmail } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// API.md 4 / ASVS 2.2.1: consecutive failed logins of one account slow it down (5 free, then
// 1 s doubling up to 15 min), answered 429 + Retry-After before any hashing, reset on success,
// the same for unknown emails, shared by instances, and independent of the per-IP limits
// (which testConfig turns off).

// Cheap hashing: these tests are about counting, not about argon2's cost.
const FAST_HASHING = { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' };
const LOCKED = 'Too many failed login attempts for this account; try again later';

function login(
  app: FastifyInstance,
  username: string,
  password: string,
  remoteAddress = '203.0.113.7',
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/token',
    remoteAddress,
    headers: FORM,
    payload: new URLSearchParams({ username, password }).toString(),
  });
}

async function register(app: FastifyInstance, email = uniqueEmail('throttle')): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/users/',
    payload: { email, password: STRONG_PASSWORD },
  });
  assert.equal(response.statusCode, 200, response.body);
  return email;
}

async function failTimes(app: FastifyInstance, email: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const response = await login(app, email, 'wrong password, try again');
    assert.equal(response.statusCode, 401, `failure ${i + 1}: ${response.body}`);
  }
}

function assertLocked(response: LightMyRequestResponse, retryAfter: number): void {
  assert.equal(response.statusCode, 429, response.body);
  assert.deepEqual(response.json(), {
    detail: LOCKED,
    code: 'too_many_attempts',
    // API.md 1 / RFC 6749 5.2: every /token error also carries these.
    error: 'temporarily_unavailable',
    error_description: LOCKED,
  });
  assert.equal(response.headers['retry-after'], String(retryAfter));
  assert.equal(response.headers['cache-control'], 'no-store');
}

describe('per-account login throttling', () => {
  let t: TestApp;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
    t = await createTestApp({ env: FAST_HASHING, clock });
  });
  afterEach(() => t.close());

  it('answers 429 with Retry-After after five failures, even to the right password', async () => {
    const email = await register(t.app);
    await failTimes(t.app, email, 5);
    assertLocked(await login(t.app, email, STRONG_PASSWORD), 1);
  });

  it('refuses a locked account before any password hashing', async (c) => {
    const email = await register(t.app);
    await failTimes(t.app, email, 5);
    const hashJobs = c.mock.method(WorkLimiter.prototype, 'run');
    for (let i = 0; i < 10; i++) assertLocked(await login(t.app, email, STRONG_PASSWORD), 1);
    assert.equal(hashJobs.mock.callCount(), 0);
    // The counter does see hashing: once the lock is over, the login verifies the password.
    clock.advance(1);
    assert.equal((await login(t.app, email, STRONG_PASSWORD)).statusCode, 200);
    assert.equal(hashJobs.mock.callCount(), 1);
  });

  it('lets the owner in once the lock expires, and a success forgets the failures', async () => {
    const email = await register(t.app);
    await failTimes(t.app, email, 5);
    clock.advance(1);
    assert.equal((await login(t.app, email, STRONG_PASSWORD)).statusCode, 200);
    // Five fresh failures are needed for the next lock, and it starts at 1 s again.
    await failTimes(t.app, email, 5);
    assertLocked(await login(t.app, email, STRONG_PASSWORD), 1);
  });

  it('doubles each lock and never locks for more than 15 minutes', async () => {
    const email = await register(t.app);
    await failTimes(t.app, email, 5);
    const waits: number[] = [];
    for (let i = 0; i < 13; i++) {
      const locked = await login(t.app, email, 'still guessing');
      assert.equal(locked.statusCode, 429);
      const wait = Number(locked.headers['retry-after']);
      waits.push(wait);
      clock.advance(wait);
      assert.equal((await login(t.app, email, 'still guessing')).statusCode, 401);
    }
    assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
    // However long an attacker keeps at it, the owner waits at most 15 minutes.
    clock.advance(900);
    assert.equal((await login(t.app, email, STRONG_PASSWORD)).statusCode, 200);
  });

  it('does not extend a lock for attempts refused during it', async () => {
    const email = await register(t.app);
    await failTimes(t.app, email, 5);
    clock.advance(0.5);
    for (let i = 0; i < 20; i++) assertLocked(await login(t.app, email, 'hammering'), 1);
    clock.advance(0.5);
    assert.equal((await login(t.app, email, STRONG_PASSWORD)).statusCode, 200);
  });

  it('throttles an unknown email exactly like a known one (no enumeration)', async () => {
    const known = await register(t.app);
    const unknown = uniqueEmail('nobody');
    const answers = [];
    for (const email of [known, unknown]) {
      await failTimes(t.app, email, 5);
      const response = await login(t.app, email, 'a guess');
      answers.push({
        status: response.statusCode,
        body: response.json(),
        retryAfter: response.headers['retry-after'],
      });
    }
    assert.deepEqual(answers[0], answers[1]);
    assert.equal(answers[0]?.status, 429);
  });

  it('counts every letter case of an email as one account', async () => {
    const email = await register(t.app);
    const variants = [
      email,
      email.toUpperCase(),
      ` ${email} `,
      email.replace(/^./, (c) => c.toUpperCase()),
    ];
    for (let i = 0; i < 5; i++) {
      assert.equal(
        (await login(t.app, variants[i % variants.length] ?? email, 'nope')).statusCode,
        401,
      );
    }
    assertLocked(await login(t.app, email.toUpperCase(), STRONG_PASSWORD), 1);
  });

  it('locks the account whatever address the guesses come from (per-IP limits off)', async () => {
    assert.equal(t.config.rateLimits.token, 0);
    const email = await register(t.app);
    for (let i = 0; i < 5; i++) {
      const response = await login(t.app, email, 'distributed guess', `198.51.100.${i + 1}`);
      assert.equal(response.statusCode, 401);
    }
    assertLocked(await login(t.app, email, STRONG_PASSWORD, '192.0.2.200'), 1);
  });

  it('leaves other accounts alone', async () => {
    const [victim, bystander] = [await register(t.app), await register(t.app)];
    await failTimes(t.app, victim, 5);
    assert.equal((await login(t.app, bystander, STRONG_PASSWORD)).statusCode, 200);
  });

  it('records the lock a failure set in the audit log', async () => {
    const email = await register(t.app);
    await failTimes(t.app, email, 5);
    const events = await t.storage.audit.list({ type: 'login.failed' }, { limit: 10 });
    const ours = events.filter((e) => e.email === email);
    assert.equal(ours.length, 5);
    assert.deepEqual(ours[0]?.details, { reason: 'wrong_password', locked_seconds: 1 });
    assert.deepEqual(ours[1]?.details, { reason: 'wrong_password' });
  });
});

describe('per-account login throttling across instances', () => {
  let dir: string;
  let clock: ManualClock;
  let instances: TestApp[];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-throttle-'));
    clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
    const env = { ...FAST_HASHING, GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'shared.db')}` };
    // One after the other: both migrate the same file.
    instances = [await createTestApp({ env, clock })];
    instances.push(await createTestApp({ env, clock }));
  });
  after(async () => {
    for (const instance of instances ?? []) await instance.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a lock on every instance that shares the store', async () => {
    const [a, b] = instances as [TestApp, TestApp];
    const email = await register(a.app);
    await failTimes(a.app, email, 3);
    await failTimes(b.app, email, 2);
    assertLocked(await login(a.app, email, STRONG_PASSWORD), 1);
    assertLocked(await login(b.app, email, STRONG_PASSWORD), 1);
    clock.advance(1);
    assert.equal((await login(b.app, email, STRONG_PASSWORD)).statusCode, 200);
  });
});
