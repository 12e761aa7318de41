import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerAndLogin, STRONG_PASSWORD } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

describe('PUT /users/me/password under guessing', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('locks the account after repeated wrong current passwords, like a login (ASVS 2.2.1)', async () => {
    const { accessToken } = await registerAndLogin(t.app);
    const change = (current: string) =>
      t.app.inject({
        method: 'PUT',
        url: '/users/me/password',
        headers: { authorization: `Bearer ${accessToken}` },
        payload: { current_password: current, new_password: 'another long passphrase' },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await change(`wrong guess ${i}`)).statusCode);
    assert.deepEqual(statuses.slice(0, 5), [400, 400, 400, 400, 400]);
    const locked = await change(STRONG_PASSWORD);
    assert.equal(locked.statusCode, 429, 'even the right password waits out the lock');
    assert.ok(Number(locked.headers['retry-after']) >= 1);
  });
});
