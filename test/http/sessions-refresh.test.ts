import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import {
  claimsOf,
  me,
  passwordLogin,
  refresh,
  registerAndLogin,
  toPair,
} from '../support/client.ts';
import { testAppPerSuite } from '../support/test-app.ts';

for (const backend of STORAGE_BACKENDS) {
  describe(`refresh tokens on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend);

    it('returns an opaque 256-bit refresh token and expires_in with every password grant', async () => {
      const { body } = await registerAndLogin(suite.t.app);
      assert.match(String(body.refresh_token), /^[A-Za-z0-9_-]{43,}$/);
      assert.equal(body.expires_in, 1800);
      assert.equal(typeof claimsOf(String(body.access_token)).sid, 'string');
    });

    it('rotates through a chain of 5 refreshes, each with a new refresh token and the same sid', async () => {
      const { body } = await registerAndLogin(suite.t.app);
      let pair = toPair(body);
      const seen = new Set([pair.refreshToken]);
      for (let i = 0; i < 5; i++) {
        const response = await refresh(suite.t.app, pair.refreshToken);
        assert.equal(response.statusCode, 200, response.body);
        assert.equal(response.headers['cache-control'], 'no-store');
        const next = toPair(response.json());
        assert.equal(next.sid, pair.sid, 'a refresh keeps the session');
        assert.ok(!seen.has(next.refreshToken), 'a new refresh token every time');
        seen.add(next.refreshToken);
        pair = next;
      }
      assert.equal((await me(suite.t.app, pair.accessToken)).statusCode, 200);
    });

    it('ends the whole chain when its 2nd token is presented again, and only that session', async () => {
      const { email, body } = await registerAndLogin(suite.t.app);
      const other = await passwordLogin(suite.t.app, email);
      const first = toPair(body);
      const second = toPair((await refresh(suite.t.app, first.refreshToken)).json());
      let latest = second;
      for (let i = 0; i < 3; i++)
        latest = toPair((await refresh(suite.t.app, latest.refreshToken)).json());

      const reuse = await refresh(suite.t.app, second.refreshToken);
      assert.equal(reuse.statusCode, 400);
      const error = reuse.json();
      assert.equal(error.error, 'invalid_grant');
      assert.equal(typeof error.error_description, 'string');
      assert.equal(typeof error.detail, 'string');

      assert.equal(
        (await refresh(suite.t.app, latest.refreshToken)).statusCode,
        400,
        'the latest refresh token is dead',
      );
      assert.equal(
        (await me(suite.t.app, latest.accessToken)).statusCode,
        401,
        'and so is the latest access token',
      );
      assert.equal(
        (await me(suite.t.app, other.accessToken)).statusCode,
        200,
        'the other session lives on',
      );
      assert.equal((await refresh(suite.t.app, other.refreshToken)).statusCode, 200);
    });

    it('lets exactly one of 10 concurrent refreshes with one token win', async () => {
      const { body } = await registerAndLogin(suite.t.app);
      const token = String(body.refresh_token);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => refresh(suite.t.app, token)),
      );
      const statuses = results.map((r) => r.statusCode).sort();
      assert.deepEqual(statuses, [200, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
    });

    it('answers unknown, garbage and expired refresh tokens with 400 invalid_grant, and a missing one with 422', async () => {
      for (const token of ['x'.repeat(43), 'not a token', '']) {
        const response = await refresh(suite.t.app, token);
        assert.equal(response.statusCode, 400, token);
        assert.equal(response.json().error, 'invalid_grant');
      }
      const missing = await suite.t.app.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=refresh_token',
      });
      assert.equal(missing.statusCode, 422);
      assert.deepEqual(missing.json().detail[0].loc, ['body', 'refresh_token']);

      const { body } = await registerAndLogin(suite.t.app);
      suite.clock.advance(suite.t.config.refreshTokenTtl + 1);
      const expired = await refresh(suite.t.app, String(body.refresh_token));
      assert.equal(expired.statusCode, 400);
      assert.equal(expired.json().error, 'invalid_grant');
    });

    it('tells an expired access token apart from a bad one (RFC 6750)', async () => {
      const { accessToken } = await registerAndLogin(suite.t.app);
      suite.clock.advance(suite.t.config.accessTokenTtl + suite.t.config.clockToleranceSeconds + 1);
      const expired = await me(suite.t.app, accessToken);
      assert.equal(expired.statusCode, 401);
      assert.match(expired.json().detail, /expired/);
      assert.equal(
        expired.headers['www-authenticate'],
        'Bearer error="invalid_token", error_description="The access token expired"',
      );
      const tampered = await me(suite.t.app, `${accessToken.slice(0, -4)}AAAA`);
      assert.equal(tampered.statusCode, 401);
      assert.equal(tampered.json().detail, 'Could not validate credentials');
      assert.equal(tampered.headers['www-authenticate'], 'Bearer');
    });
  });
}

// GATEHOUSE_REFRESH_REUSE_GRACE is covered on both stores in refresh-reuse-grace.test.ts.
