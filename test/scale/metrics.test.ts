import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, registerAndLogin, type TestApp } from '../support/test-app.ts';

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
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: form,
      payload: `username=${email}&password=wrong-password`,
    });
    await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: form,
      payload: `grant_type=refresh_token&refresh_token=${String(body.refresh_token)}`,
    });
    await t.app.inject({
      method: 'POST',
      url: '/token',
      headers: form,
      payload: `grant_type=refresh_token&refresh_token=${String(body.refresh_token)}`,
    });

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
    assert.ok(limit !== undefined && limit >= 1 && limit <= t.config.hashConcurrency, `${limit}`);
    assert.match(text, /gatehouse_http_request_duration_seconds_bucket\{/);
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
