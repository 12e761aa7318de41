import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { queuedMail } from '../support/outbox-mail.ts';
import { STRONG_PASSWORD, uniqueEmail } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// API.md 8: POST /password-reset is limited per client IP and per address; the per-address
// count runs for unknown addresses alike, so a 429 tells nothing about which exist.

const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL;

function ask(t: TestApp, email: string, remoteAddress: string) {
  return t.app.inject({
    method: 'POST',
    url: '/password-reset',
    payload: { email },
    remoteAddress,
  });
}

function assertLimited(answer: Awaited<ReturnType<typeof ask>>): void {
  assert.equal(answer.statusCode, 429, answer.body);
  assert.equal(answer.json().detail, 'Too many requests; try again later');
  assert.ok(Number(answer.headers['retry-after']) >= 1);
}

function limitSuites(redis: boolean): void {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({
      env: {
        GATEHOUSE_RATE_LIMIT_PASSWORD_RESET: '3',
        GATEHOUSE_RATE_LIMIT_PASSWORD_RESET_ADDRESS: '2',
        ...(redis
          ? {
              GATEHOUSE_REDIS_URL: REDIS_URL ?? '',
              GATEHOUSE_REDIS_KEY_PREFIX: `gatehouse-test-${randomBytes(6).toString('hex')}:`,
            }
          : {}),
      },
    });
  });
  after(() => t?.close());

  it('limits one client IP across addresses (429 with Retry-After)', async () => {
    const ip = '198.51.100.20';
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await ask(t, uniqueEmail('ip'), ip)).statusCode, 202);
    }
    assertLimited(await ask(t, uniqueEmail('ip'), ip));
    assert.equal((await ask(t, uniqueEmail('ip'), '198.51.100.21')).statusCode, 202);
  });

  it('limits one address across client IPs, registered or not, alike', async () => {
    const known = uniqueEmail('known');
    await t.services.registerUser({ email: known, password: STRONG_PASSWORD });
    const unknown = uniqueEmail('unknown');
    for (const email of [known, unknown]) {
      assert.equal((await ask(t, email, '192.0.2.1')).statusCode, 202);
      assert.equal((await ask(t, email.toUpperCase(), '192.0.2.2')).statusCode, 202);
      assertLimited(await ask(t, email, '192.0.2.3'));
    }
    // Two links were sent, no more: the limit holds the mailbox's flood too.
    assert.equal((await queuedMail(t.storage, known, 'password_reset')).length, 2);
  });
}

describe('POST /password-reset rate limits (memory)', () => limitSuites(false));
describe(
  'POST /password-reset rate limits shared through Redis',
  { skip: REDIS_URL ? false : 'set GATEHOUSE_TEST_REDIS_URL to run the Redis suites' },
  () => limitSuites(true),
);
