import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerAndLogin } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

describe('smoke: register, log in, read me', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('returns the registered user to its own bearer token', async () => {
    const { email, accessToken } = await registerAndLogin(t.app);
    const me = await t.app.inject({
      method: 'GET',
      url: '/users/me/',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().email, email);
  });
});
