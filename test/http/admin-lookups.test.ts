import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { AUDIT_EVENT_TYPES } from '../../src/domain/audit/audit-log.ts';
import {
  refresh,
  createUser,
  insertUsers,
  requestToken,
  type LoggedIn,
  requestAs,
  patchUser,
} from '../support/client.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite, uniqueEmail } from '../support/test-app.ts';

// What the admin pages of the web UI look things up with: GET /audit/types, the
// audit log's emails and `user_email` filter, and the `total` of GET /users/.

interface Entry {
  type: string;
  actor_id: number | null;
  subject_id: number | null;
  email: string | null;
  actor_email: string | null;
  subject_email: string | null;
  details: Record<string, unknown> | null;
}

for (const backend of STORAGE_BACKENDS) {
  describe(`admin look-ups (${backend.name})`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend);
    let admin: LoggedIn;
    before(async () => {
      admin = await createUser(suite.t, 'admin');
    });

    const get = (url: string, token = admin.accessToken) =>
      requestAs(suite.t.app, token, 'GET', url);

    async function audit(query: string): Promise<Entry[]> {
      const response = await get(`/audit?limit=100&${query}`);
      assert.equal(response.statusCode, 200, response.body);
      return (response.json() as { items: Entry[] }).items;
    }

    it('GET /audit/types lists every type the type filter accepts, for admins only', async () => {
      const response = await get('/audit/types');
      assert.equal(response.statusCode, 200, response.body);
      const { items } = response.json() as { items: string[] };
      assert.deepEqual(items, [...AUDIT_EVENT_TYPES]);
      assert.ok(items.includes('login.failed'));
      for (const type of items) {
        assert.equal(
          (await get(`/audit?type=${encodeURIComponent(type)}&limit=1`)).statusCode,
          200,
          type,
        );
      }

      const user = await createUser(suite.t);
      assert.equal((await get('/audit/types', user.accessToken)).statusCode, 403);
      const anonymous = await suite.t.app.inject({ method: 'GET', url: '/audit/types' });
      assert.equal(anonymous.statusCode, 401);
    });

    it('entries carry the actor and subject emails the accounts hold, and the details', async () => {
      const target = await createUser(suite.t);
      const patch = await patchUser(suite.t.app, admin, target.user.id, { role: 'admin' });
      assert.equal(patch.statusCode, 200, patch.body);
      const [change] = await audit(`user_id=${target.user.id}&type=user.role_changed`);
      assert.ok(change);
      assert.equal(change.actor_id, admin.user.id);
      assert.equal(change.actor_email, admin.email);
      assert.equal(change.subject_email, target.email);
      assert.deepEqual(change.details, { from: 'user', to: 'admin' });

      const [registered] = await audit(`user_id=${target.user.id}&type=user.registered`);
      assert.ok(registered);
      assert.equal(registered.actor_email, registered.actor_id === null ? null : target.email);
    });

    it('user_email filters like user_id, in any letter case; an unknown email gives no rows', async () => {
      const target = await createUser(suite.t);
      const failed = await requestToken(suite.t.app, {
        username: target.email,
        password: 'wrong-pw!',
      });
      assert.equal(failed.statusCode, 401);

      const byId = await audit(`user_id=${target.user.id}`);
      const byEmail = await audit(`user_email=${encodeURIComponent(target.email.toUpperCase())}`);
      assert.ok(byId.length >= 3, JSON.stringify(byId));
      assert.deepEqual(byEmail, byId);
      assert.ok(byEmail.some((e) => e.type === 'login.failed'));
      assert.ok(
        byEmail.every((e) => e.subject_id === target.user.id || e.actor_id === target.user.id),
      );

      // Combined with type, like every other filter.
      const failures = await audit(
        `user_email=${encodeURIComponent(target.email)}&type=login.failed`,
      );
      assert.deepEqual(
        failures.map((e) => e.type),
        ['login.failed'],
      );

      assert.deepEqual(await audit(`user_email=${encodeURIComponent(uniqueEmail('nobody'))}`), []);
      assert.deepEqual(await audit('user_email=not-an-email'), []);
      // A LIKE pattern is compared as text, never as a pattern.
      assert.deepEqual(await audit('user_email=%25'), []);
    });

    it("a failed login with an unregistered email is found by that email; a deleted user's history too", async () => {
      const stranger = uniqueEmail('stranger');
      await requestToken(suite.t.app, { username: stranger, password: 'wrong-pw!' });
      const tried = await audit(`user_email=${encodeURIComponent(stranger)}`);
      assert.deepEqual(
        tried.map((e) => [e.type, e.subject_id, e.subject_email]),
        [['login.failed', null, null]],
      );

      const gone = await createUser(suite.t);
      const removed = await requestAs(
        suite.t.app,
        admin.accessToken,
        'DELETE',
        `/users/${gone.user.id}`,
      );
      assert.equal(removed.statusCode, 204);
      const history = await audit(`user_email=${encodeURIComponent(gone.email)}`);
      const deleted = history.find((e) => e.type === 'user.deleted');
      assert.ok(deleted, JSON.stringify(history));
      assert.equal(deleted.subject_email, null, 'the account no longer exists');
      assert.equal(deleted.email, gone.email, 'what was recorded stays');
      assert.equal(deleted.actor_email, admin.email);
    });

    it('user_email is refused when empty or longer than an email can be (422, not 500)', async () => {
      for (const value of ['', 'a'.repeat(255)]) {
        const response = await get(`/audit?user_email=${value}`);
        assert.equal(response.statusCode, 422, response.body);
        assert.ok(response.json().detail);
      }
    });

    it('DELETE /users/{id}/sessions signs the user out everywhere, audited with the admin as actor', async () => {
      const target = await createUser(suite.t);
      const second = await createUser(suite.t, 'user', uniqueEmail('second'));
      const response = await requestAs(
        suite.t.app,
        admin.accessToken,
        'DELETE',
        `/users/${target.user.id}/sessions`,
      );
      assert.equal(response.statusCode, 204, response.body);
      assert.equal((await get('/users/me/', target.accessToken)).statusCode, 401);
      const refreshed = await refresh(suite.t.app, target.refreshToken);
      assert.equal(refreshed.statusCode, 400, refreshed.body);
      assert.equal(
        (await get('/users/me/', second.accessToken)).statusCode,
        200,
        'others keep theirs',
      );
      // The account itself is untouched: a new login works.
      assert.equal((await requestToken(suite.t.app, { username: target.email })).statusCode, 200);

      const [entry] = await audit(`user_id=${target.user.id}&type=session.logout`);
      assert.ok(entry);
      assert.equal(entry.actor_id, admin.user.id);
      assert.equal(entry.subject_id, target.user.id);
      assert.equal(entry.details?.all, true);
      assert.equal(entry.details?.ended, 1);

      const missing = await requestAs(
        suite.t.app,
        admin.accessToken,
        'DELETE',
        '/users/999999/sessions',
      );
      assert.equal(missing.statusCode, 404);
      const denied = await requestAs(
        suite.t.app,
        second.accessToken,
        'DELETE',
        `/users/${admin.user.id}/sessions`,
      );
      assert.equal(denied.statusCode, 403);
      assert.equal((await get('/users/me/')).statusCode, 200, 'the admin is still signed in');
    });

    it('GET /users/ gives the total matching email_prefix on every page', async () => {
      const prefix = `total-${Date.now()}`;
      await insertUsers(
        suite.t,
        Array.from({ length: 5 }, (_, i) => `${prefix}-${i}@example.com`),
      );
      const first = await get(`/users/?limit=2&email_prefix=${prefix.toUpperCase()}`);
      assert.equal(first.statusCode, 200, first.body);
      const page = first.json() as { items: unknown[]; next_cursor: string; total: number };
      assert.equal(page.items.length, 2);
      assert.equal(page.total, 5);
      const second = await get(
        `/users/?limit=2&email_prefix=${prefix}&cursor=${encodeURIComponent(page.next_cursor)}`,
      );
      assert.equal(second.json().total, 5);

      const none = await get('/users/?email_prefix=%25');
      assert.equal(none.json().total, 0, 'LIKE wildcards are literal');
      const everyone = (await get('/users/?limit=1')).json() as { total: number };
      assert.ok(everyone.total >= 6);
    });
  });
}
