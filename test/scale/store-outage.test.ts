import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { registerAndLogin, uniqueEmail } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

const postgres = STORAGE_BACKENDS.find((b) => b.name === 'postgres')!;

describe('losing Postgres for a while', { skip: postgres.skip }, () => {
  let t: TestApp;
  let proxy: TcpProxy;
  let token: string;

  before(async () => {
    const url = new URL(await postgres.freshUrl());
    proxy = new TcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(await proxy.start());
    t = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: url.toString() } });
    ({ accessToken: token } = await registerAndLogin(t.app));
  });
  after(async () => {
    await t.close();
    await proxy.close();
  });

  const me = () =>
    t.app.inject({
      method: 'GET',
      url: '/users/me/',
      headers: { authorization: `Bearer ${token}` },
    });

  it('answers 503 with a clear detail while the store is down, then recovers by itself', async () => {
    assert.equal((await me()).statusCode, 200);
    await proxy.cut();

    const down = await me();
    // Revocation fails closed: a token whose session can't be checked is not accepted.
    assert.equal(down.statusCode, 503);
    assert.equal(down.json().code, 'store_unavailable');
    assert.match(down.json().detail, /unavailable/);
    assert.ok(Number(down.headers['retry-after']) >= 1);

    const register = await t.app.inject({
      method: 'POST',
      url: '/users/',
      payload: { email: uniqueEmail(), password: 'correct horse battery staple' },
    });
    assert.equal(register.statusCode, 503);

    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().checks.store, 'down');

    await proxy.restore();
    let recovered = 0;
    for (let attempt = 0; attempt < 50 && recovered !== 200; attempt++) {
      recovered = (await me()).statusCode;
      if (recovered !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(recovered, 200, 'the same token works again once the store is back');
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });
});
