import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerAndLogin, postForm } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('counts requests by route and status, and token grants by outcome', async () => {
    const { email, body } = await registerAndLogin(t.app);
    await postForm(t.app, '/token', `username=${email}&password=wrong-password`);
    await postForm(
      t.app,
      '/token',
      `grant_type=refresh_token&refresh_token=${String(body.refresh_token)}`,
    );
    await postForm(
      t.app,
      '/token',
      `grant_type=refresh_token&refresh_token=${String(body.refresh_token)}`,
    );

    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain/);
    const text = response.body;
    assert.equal(sample(text, 'gatehouse_http_requests_total', 'route="/users/",status="200"'), 1);
    assert.equal(sample(text, 'gatehouse_http_requests_total', 'route="/token",status="401"'), 1);
    assert.equal(
      sample(text, 'gatehouse_token_grants_total', 'grant_type="password",outcome="success"'),
      1,
    );
    assert.equal(
      sample(
        text,
        'gatehouse_token_grants_total',
        'grant_type="password",outcome="invalid_credentials"',
      ),
      1,
    );
    assert.equal(
      sample(text, 'gatehouse_token_grants_total', 'grant_type="refresh_token",outcome="success"'),
      1,
    );
    assert.equal(
      sample(
        text,
        'gatehouse_token_grants_total',
        'grant_type="refresh_token",outcome="refresh_token_reused"',
      ),
      1,
    );
    assert.notEqual(sample(text, 'gatehouse_password_hashing_jobs', 'state="queued"'), undefined);
    // How many hashes may run at once: at least one, at most GATEHOUSE_HASH_CONCURRENCY.
    const limit = sample(text, 'gatehouse_password_hashing_jobs', 'state="limit"');
    assert.ok(
      limit !== undefined && limit >= 1 && limit <= t.config.passwords.hashConcurrency,
      `${limit}`,
    );
    assert.match(text, /gatehouse_http_request_duration_seconds_bucket\{/);
  });

  it('counts each 429 once, under its own reason: per-IP limit or per-account login throttle', async () => {
    const limited = await createTestApp({
      env: {
        GATEHOUSE_RATE_LIMIT_TOKEN: '7',
        GATEHOUSE_ARGON2_MEMORY_KIB: '1024',
        GATEHOUSE_ARGON2_ITERATIONS: '1',
      },
    });
    try {
      const { email } = await registerAndLogin(limited.app);
      const statuses: number[] = [];
      // 1 login above, then 5 failures lock the account, the 7th is throttled (per account),
      // the 8th is over the per-IP limit of 7 a minute.
      for (let i = 0; i < 7; i++) {
        const response = await postForm(
          limited.app,
          '/token',
          `username=${email}&password=wrong-password`,
        );
        statuses.push(response.statusCode);
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
      const text = (await limited.app.inject({ method: 'GET', url: '/metrics' })).body;
      const counted = (reason: string) =>
        sample(text, 'gatehouse_rate_limited_total', `route="/token",reason="${reason}"`);
      assert.equal(counted('login_throttled'), 1);
      assert.equal(counted('rate_limited'), 1);
      const outcome = (name: string) =>
        sample(text, 'gatehouse_token_grants_total', `grant_type="password",outcome="${name}"`);
      assert.equal(outcome('too_many_attempts'), 1);
      assert.equal(outcome('rate_limited'), 1);
    } finally {
      await limited.close();
    }
  });

  it('is off by default in production, and on with GATEHOUSE_METRICS=true', async () => {
    const production = { GATEHOUSE_ENV: 'production' };
    const off = await createTestApp({ env: production });
    const on = await createTestApp({ env: { ...production, GATEHOUSE_METRICS: 'true' } });
    try {
      assert.equal((await off.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
      assert.equal((await on.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
    } finally {
      await off.close();
      await on.close();
    }
  });

  it('answers only the bearer token of GATEHOUSE_METRICS_TOKEN when it is set', async () => {
    const token = 'Qm9vdHN0cmFwLW1ldHJpY3MtdG9rZW4tZm9yLXRlc3Rz';
    const guarded = await createTestApp({ env: { GATEHOUSE_METRICS_TOKEN: token } });
    const scrape = (authorization?: string) =>
      guarded.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization === undefined ? {} : { authorization },
      });
    try {
      const none = await scrape();
      assert.equal(none.statusCode, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer');
      assert.doesNotMatch(none.body, /gatehouse_/);
      for (const wrong of [
        `Bearer ${token}x`,
        'Bearer ',
        `Basic ${token}`,
        `Bearer ${token.slice(1)}`,
      ]) {
        const response = await scrape(wrong);
        assert.equal(response.statusCode, 401, wrong);
        assert.doesNotMatch(response.body, /gatehouse_/);
      }
      const ok = await scrape(`Bearer ${token}`);
      assert.equal(ok.statusCode, 200);
      assert.match(ok.body, /gatehouse_password_hashing_jobs/);
    } finally {
      await guarded.close();
    }
  });

  it('is not served when GATEHOUSE_METRICS=false', async () => {
    const off = await createTestApp({ env: { GATEHOUSE_METRICS: 'false' } });
    try {
      assert.equal((await off.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    } finally {
      await off.close();
    }
  });
});
