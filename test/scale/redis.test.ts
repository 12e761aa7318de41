import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait.ts';
import { FORM } from '../support/client.ts';

const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL;
const skip = REDIS_URL ? false : 'set GATEHOUSE_TEST_REDIS_URL to run the Redis suites';

const badLogin = (t: TestApp, n: number) =>
  t.app.inject({
    method: 'POST',
    url: '/token',
    headers: FORM,
    // A different account each time, so only the per-IP limit is at work.
    payload: `username=nobody-${n}@example.com&password=not-the-password`,
  });

describe('Redis shared by several instances', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-'));
  const env = () => ({
    GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'shared.db')}`,
    GATEHOUSE_RATE_LIMIT_TOKEN: '4',
    GATEHOUSE_REDIS_KEY_PREFIX: `gatehouse-test-${randomBytes(6).toString('hex')}:`,
  });
  let a: TestApp;
  let b: TestApp;
  let proxied: TestApp;
  let proxy: TcpProxy;

  before(async () => {
    const shared = { ...env(), GATEHOUSE_REDIS_URL: REDIS_URL! };
    a = await createTestApp({ env: shared });
    b = await createTestApp({ env: shared });
    const target = new URL(REDIS_URL!);
    proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const port = await proxy.start();
    proxied = await createTestApp({
      env: { ...env(), GATEHOUSE_REDIS_URL: `redis://127.0.0.1:${port}` },
    });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await proxied?.close();
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts the per-IP limit across instances', async () => {
    const statuses = [
      (await badLogin(a, 1)).statusCode,
      (await badLogin(b, 2)).statusCode,
      (await badLogin(a, 3)).statusCode,
      (await badLogin(b, 4)).statusCode,
    ];
    assert.deepEqual(statuses, [401, 401, 401, 401]);
    const over = await badLogin(a, 5);
    assert.equal(over.statusCode, 429, 'the fifth request of the minute, whichever instance');
    assert.ok(Number(over.headers['retry-after']) >= 1);
    assert.equal(over.json().code, 'rate_limited');
  });

  it('keeps answering while Redis is down, reports it, and shares counters again once back', async () => {
    const ready = () => proxied.app.inject({ method: 'GET', url: '/readyz' });
    assert.deepEqual((await ready()).json().checks, { store: 'ok', redis: 'ok' });

    await proxy.cut();
    // Never a hang or a 500: the limit lets requests through and the login is answered.
    const during = await badLogin(proxied, 10);
    assert.equal(during.statusCode, 401);
    const degraded = await ready();
    assert.equal(degraded.statusCode, 200);
    assert.equal(degraded.json().status, 'degraded');
    assert.equal(degraded.json().checks.redis, 'down');

    await proxy.restore();
    await waitFor('Redis recovery', async () => (await ready()).json().status === 'ok', 10_000);
    const statuses: number[] = [];
    for (let n = 20; n < 26; n++) statuses.push((await badLogin(proxied, n)).statusCode);
    assert.ok(statuses.includes(429), `limits apply again after recovery (got ${statuses.join()})`);
  });
});
