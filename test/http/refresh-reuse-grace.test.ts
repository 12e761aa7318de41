import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { me, refresh, registerAndLogin, toPair } from '../support/client.ts';
import { testAppPerSuite } from '../support/test-app.ts';

// GATEHOUSE_REFRESH_REUSE_GRACE: a parent presented again inside the window gets the
// very child its first presentation got, so concurrent tabs stay signed in without the session
// forking into two chains that reuse detection can no longer connect.
for (const backend of STORAGE_BACKENDS) {
  describe(`GATEHOUSE_REFRESH_REUSE_GRACE=30 on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend, { GATEHOUSE_REFRESH_REUSE_GRACE: '30' });

    it('answers the parent within 30 s with the same child, which works, in the same session', async () => {
      const { body } = await registerAndLogin(suite.t.app);
      const parent = toPair(body);
      const child = toPair((await refresh(suite.t.app, parent.refreshToken)).json());
      suite.clock.advance(30);
      const again = await refresh(suite.t.app, parent.refreshToken);
      assert.equal(again.statusCode, 200, again.body);
      const sibling = toPair(again.json());
      assert.equal(sibling.sid, parent.sid);
      assert.equal(sibling.refreshToken, child.refreshToken, 'one chain: the same child again');
      assert.notEqual(sibling.accessToken, child.accessToken);
      assert.equal((await me(suite.t.app, sibling.accessToken)).statusCode, 200);
      assert.equal((await me(suite.t.app, child.accessToken)).statusCode, 200);
      assert.equal((await refresh(suite.t.app, child.refreshToken)).statusCode, 200);
    });

    it('never lets the two presentations of one parent live on as two chains', async () => {
      const { body } = await registerAndLogin(suite.t.app);
      const parent = toPair(body);
      const first = toPair((await refresh(suite.t.app, parent.refreshToken)).json());
      suite.clock.advance(5);
      const second = toPair((await refresh(suite.t.app, parent.refreshToken)).json());
      // Tab one goes on rotating; tab two comes back with what it got, after the window.
      const next = await refresh(suite.t.app, first.refreshToken);
      assert.equal(next.statusCode, 200, next.body);
      suite.clock.advance(31);
      const late = await refresh(suite.t.app, second.refreshToken);
      assert.equal(late.statusCode, 400, 'the second result is the spent child, not a new chain');
      assert.equal(late.json().code, 'refresh_token_reused');
      assert.equal((await me(suite.t.app, toPair(next.json()).accessToken)).statusCode, 401);
      assert.equal((await refresh(suite.t.app, toPair(next.json()).refreshToken)).statusCode, 400);
    });

    it('goes on re-issuing the child through housekeeping while the window lasts', async () => {
      const { body } = await registerAndLogin(suite.t.app);
      const parent = toPair(body);
      const child = toPair((await refresh(suite.t.app, parent.refreshToken)).json());
      suite.clock.advance(20);
      await suite.t.services.purgeEndedSessions();
      const again = await refresh(suite.t.app, parent.refreshToken);
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(toPair(again.json()).refreshToken, child.refreshToken);
    });

    it('treats the parent as reuse after 31 s and ends the session of every tab', async () => {
      const { body } = await registerAndLogin(suite.t.app);
      const parent = toPair(body);
      const child = toPair((await refresh(suite.t.app, parent.refreshToken)).json());
      suite.clock.advance(31);
      const late = await refresh(suite.t.app, parent.refreshToken);
      assert.equal(late.statusCode, 400);
      assert.equal(late.json().error, 'invalid_grant');
      assert.equal(late.json().code, 'refresh_token_reused');
      assert.equal((await me(suite.t.app, child.accessToken)).statusCode, 401);
      assert.equal((await refresh(suite.t.app, child.refreshToken)).statusCode, 400);
    });

    it('keeps 10 tabs refreshing one token at once signed in, all holding the one child', async () => {
      const { body } = await registerAndLogin(suite.t.app);
      const token = String(body.refresh_token);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => refresh(suite.t.app, token)),
      );
      assert.deepEqual(
        results.map((r) => r.statusCode),
        Array(10).fill(200),
      );
      const pairs = results.map((r) => toPair(r.json()));
      assert.equal(new Set(pairs.map((p) => p.sid)).size, 1);
      assert.equal(new Set(pairs.map((p) => p.refreshToken)).size, 1, 'one chain, one child');
      for (const pair of pairs) {
        assert.equal((await me(suite.t.app, pair.accessToken)).statusCode, 200);
      }
      // The child rotates once; presented again after the window, it is reuse like any token.
      const [child] = pairs;
      assert.equal((await refresh(suite.t.app, child!.refreshToken)).statusCode, 200);
      suite.clock.advance(31);
      assert.equal(
        (await refresh(suite.t.app, child!.refreshToken)).json().code,
        'refresh_token_reused',
      );
    });
  });
}
