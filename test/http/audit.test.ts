import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import {
  bearer,
  createUser,
  FORM,
  logIn,
  requestToken,
  type LoggedIn,
  requestAs,
} from '../support/client.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { createTestApp, STRONG_PASSWORD, uniqueEmail, type TestApp } from '../support/test-app.ts';

const CLIENT = { 'user-agent': 'audit-test/1.0' };
const IP = '203.0.113.7';

interface Entry {
  id: number;
  type: string;
  created_at: string;
  actor_id: number | null;
  subject_id: number | null;
  email: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown> | null;
}

for (const backend of STORAGE_BACKENDS) {
  describe(`audit log (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestApp;
    let clock: ManualClock;
    let admin: LoggedIn;
    before(async () => {
      clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
      t = await createTestApp({
        clock,
        env: { GATEHOUSE_DATABASE_URL: await backend.freshUrl() },
      });
      admin = await createUser(t, 'admin');
    });
    after(() => t?.close());

    /** A request as a browser at IP would make it. */
    const call = (options: {
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
      url: string;
      token?: string;
      payload?: string | object;
      form?: boolean;
    }) =>
      t.app.inject({
        method: options.method,
        url: options.url,
        remoteAddress: IP,
        headers: {
          ...CLIENT,
          ...(options.form ? FORM : {}),
          ...(options.token ? bearer(options.token) : {}),
        },
        payload: options.payload,
      });

    async function audit(query: string): Promise<{ items: Entry[]; next_cursor: string | null }> {
      const response = await requestAs(t.app, admin.accessToken, 'GET', `/audit?${query}`);
      assert.equal(response.statusCode, 200, response.body);
      return response.json();
    }

    async function eventsOf(userId: number, type?: string): Promise<Entry[]> {
      return (await audit(`user_id=${userId}&limit=100${type ? `&type=${type}` : ''}`)).items;
    }

    function only(entries: Entry[], type: string): Entry {
      const matching = entries.filter((e) => e.type === type);
      assert.equal(matching.length, 1, `one ${type} in ${JSON.stringify(entries)}`);
      return matching[0]!;
    }

    async function registerAndLogIn(): Promise<{ id: number; email: string; login: LoggedIn }> {
      const email = uniqueEmail('audited');
      const register = await call({
        method: 'POST',
        url: '/users/',
        payload: { email, password: STRONG_PASSWORD },
      });
      assert.equal(register.statusCode, 200);
      const user = register.json();
      const login = await logIn(t.app, { ...user, createdAt: new Date() }, undefined, CLIENT);
      return { id: user.id, email, login };
    }

    it('records a registration with the user as actor and subject, the email, IP and user agent', async () => {
      const { id, email } = await registerAndLogIn();
      const entry = only(await eventsOf(id), 'user.registered');
      assert.equal(entry.actor_id, id);
      assert.equal(entry.subject_id, id);
      assert.equal(entry.email, email);
      assert.equal(entry.ip, IP);
      assert.equal(entry.user_agent, 'audit-test/1.0');
      assert.equal(entry.created_at, clock.now().toISOString());
      assert.deepEqual(entry.details, { role: 'user' });
      assert.equal(typeof entry.id, 'number');
    });

    it('records successful and failed logins with the email tried, never the password', async () => {
      const { id, email, login } = await registerAndLogIn();
      const success = only(await eventsOf(id), 'login.succeeded');
      assert.equal(success.actor_id, id);
      assert.equal(success.email, email);
      assert.equal(success.user_agent, 'audit-test/1.0');
      assert.equal(typeof success.details?.session_id, 'string');

      const wrong = 'wrong-password-never-logged';
      const tried = email.toUpperCase();
      const failed = await call({
        method: 'POST',
        url: '/token',
        form: true,
        payload: new URLSearchParams({ username: tried, password: wrong }).toString(),
      });
      assert.equal(failed.statusCode, 401);
      const failure = only(await eventsOf(id), 'login.failed');
      assert.equal(failure.subject_id, id);
      assert.equal(failure.actor_id, null);
      assert.equal(failure.email, tried, 'the email as tried');
      assert.equal(failure.ip, IP);
      assert.deepEqual(failure.details, { reason: 'wrong_password' });

      const nobody = uniqueEmail('nobody');
      await call({
        method: 'POST',
        url: '/token',
        form: true,
        payload: new URLSearchParams({ username: nobody, password: wrong }).toString(),
      });
      const unknown = (await audit('type=login.failed&limit=100')).items.find(
        (e) => e.email === nobody,
      );
      assert.ok(unknown, 'an unknown email is recorded too');
      assert.equal(unknown.subject_id, null);
      assert.deepEqual(unknown.details, { reason: 'unknown_email' });

      const scoped = await requestToken(t.app, { username: email, scope: 'admin' });
      assert.equal(scoped.statusCode, 400);
      const reasons = (await eventsOf(id, 'login.failed')).map((e) => e.details?.reason);
      assert.deepEqual(reasons, ['invalid_scope', 'wrong_password']);

      const everything = await requestAs(t.app, admin.accessToken, 'GET', '/audit?limit=100');
      assert.doesNotMatch(everything.body, new RegExp(wrong));
      assert.doesNotMatch(everything.body, new RegExp(STRONG_PASSWORD));
      assert.doesNotMatch(everything.body, new RegExp(login.refreshToken));
    });

    it('records a refresh, and a detected reuse even though that grant fails', async () => {
      const { id, login } = await registerAndLogIn();
      const refresh = (token: string) =>
        call({
          method: 'POST',
          url: '/token',
          form: true,
          payload: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: token,
          }).toString(),
        });
      assert.equal((await refresh(login.refreshToken)).statusCode, 200);
      const refreshed = only(await eventsOf(id), 'token.refreshed');
      assert.equal(refreshed.actor_id, id);
      assert.equal(refreshed.subject_id, id);
      assert.equal(refreshed.ip, IP);
      const sessionId = refreshed.details?.session_id;
      assert.equal(typeof sessionId, 'string');

      const replay = await refresh(login.refreshToken);
      assert.equal(replay.statusCode, 400);
      assert.equal(replay.json().error, 'invalid_grant');
      const reuse = only(await eventsOf(id), 'token.reuse_detected');
      assert.equal(reuse.subject_id, id);
      assert.equal(reuse.actor_id, null, 'whoever replayed it is unknown');
      assert.equal(reuse.details?.session_id, sessionId);
      assert.equal(reuse.user_agent, 'audit-test/1.0');
    });

    it('records logout, ending one session, the other sessions and logging out everywhere', async () => {
      const { id, login } = await registerAndLogIn();
      const second = await logIn(t.app, login.user);
      const third = await logIn(t.app, login.user);
      await logIn(t.app, login.user);
      const sessionOf = async (token: string) => {
        const list = await call({ method: 'GET', url: '/users/me/sessions', token });
        return (list.json().items as { id: string; current: boolean }[]).find((s) => s.current)!.id;
      };
      const secondId = await sessionOf(second.accessToken);
      assert.equal(
        (
          await call({
            method: 'DELETE',
            url: `/users/me/sessions/${secondId}`,
            token: third.accessToken,
          })
        ).statusCode,
        204,
      );
      const thirdId = await sessionOf(third.accessToken);
      assert.equal(
        (await call({ method: 'POST', url: '/logout', token: third.accessToken })).statusCode,
        204,
      );
      assert.equal(
        (await call({ method: 'POST', url: '/logout/others', token: login.accessToken }))
          .statusCode,
        204,
      );
      assert.equal(
        (await call({ method: 'POST', url: '/logout/all', token: login.accessToken })).statusCode,
        204,
      );

      const logouts = await eventsOf(id, 'session.logout');
      assert.deepEqual(
        logouts.map((e) => e.details),
        [
          { all: true, ended: 1 },
          { all: true, except_current: true, ended: 1 },
          { session_id: thirdId },
          { session_id: secondId },
        ],
        'newest first',
      );
      for (const entry of logouts) {
        assert.equal(entry.actor_id, id);
        assert.equal(entry.subject_id, id);
        assert.equal(entry.ip, IP);
        assert.equal(entry.user_agent, 'audit-test/1.0');
      }
    });

    it('records a password change', async () => {
      const { id, email, login } = await registerAndLogIn();
      const changed = await call({
        method: 'PUT',
        url: '/users/me/password',
        token: login.accessToken,
        payload: { current_password: STRONG_PASSWORD, new_password: 'a whole new passphrase' },
      });
      assert.equal(changed.statusCode, 204);
      const entry = only(await eventsOf(id), 'password.changed');
      assert.equal(entry.actor_id, id);
      assert.equal(entry.email, email);
      assert.equal(entry.ip, IP);
      assert.deepEqual(entry.details, { other_sessions_ended: 0, reset_links_voided: 0 });
      assert.doesNotMatch(JSON.stringify(entry), /passphrase/);
    });

    it('records role changes, disabling, enabling and deletion with the admin as actor, and keeps them after the deletion', async () => {
      const { id, email } = await registerAndLogIn();
      const patch = (payload: object) =>
        call({ method: 'PATCH', url: `/users/${id}`, token: admin.accessToken, payload });
      assert.equal((await patch({ role: 'admin' })).statusCode, 200);
      assert.equal((await patch({ role: 'user' })).statusCode, 200);
      assert.equal((await patch({ disabled: true })).statusCode, 200);
      assert.equal((await patch({ disabled: true })).statusCode, 200, 'a no-op is not recorded');
      assert.equal((await patch({ disabled: false })).statusCode, 200);
      assert.equal(
        (await call({ method: 'DELETE', url: `/users/${id}`, token: admin.accessToken }))
          .statusCode,
        204,
      );

      const entries = (await eventsOf(id)).filter((e) => e.actor_id === admin.user.id);
      assert.deepEqual(
        entries.map((e) => [e.type, e.details]),
        [
          ['user.deleted', null],
          ['user.enabled', null],
          ['user.disabled', null],
          ['user.role_changed', { from: 'admin', to: 'user' }],
          ['user.role_changed', { from: 'user', to: 'admin' }],
        ],
      );
      for (const entry of entries) {
        assert.equal(entry.subject_id, id);
        assert.equal(entry.email, email);
        assert.equal(entry.ip, IP);
        assert.equal(entry.user_agent, 'audit-test/1.0');
      }
      // The admin's own view: user_id also matches the actor.
      const byAdmin = await eventsOf(admin.user.id, 'user.deleted');
      assert.ok(byAdmin.some((e) => e.subject_id === id));
      // The deleted user's history stays, registration included.
      assert.ok((await eventsOf(id)).some((e) => e.type === 'user.registered'));
    });

    it('filters by type and by time (since inclusive, until exclusive), newest first', async () => {
      clock.advance(60);
      const start = clock.now();
      const first = await createUser(t);
      clock.advance(60);
      const middle = clock.now();
      const second = await createUser(t);
      clock.advance(60);
      const end = clock.now();
      await createUser(t);

      const range = `since=${start.toISOString()}&until=${end.toISOString()}&type=login.succeeded`;
      const inRange = await audit(range);
      assert.deepEqual(
        inRange.items.map((e) => e.subject_id),
        [second.user.id, first.user.id],
      );
      const fromMiddle = await audit(
        `since=${encodeURIComponent(middle.toISOString())}&until=${end.toISOString()}&type=login.succeeded`,
      );
      assert.deepEqual(
        fromMiddle.items.map((e) => e.subject_id),
        [second.user.id],
      );
      // Other ISO 8601 spellings of the same instants: an offset, and a naive time read as UTC.
      const offset = new Date(middle.getTime() + 3_600_000).toISOString().replace('Z', '+01:00');
      const naive = end.toISOString().slice(0, 19);
      const spelled = await audit(
        `since=${encodeURIComponent(offset)}&until=${naive}&type=login.succeeded`,
      );
      assert.deepEqual(
        spelled.items.map((e) => e.subject_id),
        [second.user.id],
      );
      for (const entry of (await audit('type=user.registered&limit=100')).items) {
        assert.equal(entry.type, 'user.registered');
      }
      const ids = (await audit('limit=100')).items.map((e) => e.id);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => b - a),
        'newest first',
      );
    });

    it('pages through the log with next_cursor without repeating or skipping an entry', async () => {
      const all = (await audit('limit=100')).items.map((e) => e.id);
      assert.ok(all.length > 10 && all.length < 100, `${all.length} entries so far`);
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: Entry[]; next_cursor: string | null } = await audit(
          `limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        );
        assert.ok(page.items.length <= 3);
        seen.push(...page.items.map((e) => e.id));
        cursor = page.next_cursor;
        // Entries recorded while paging (this very login) land before the first page, not in it.
        if (cursor !== null && seen.length === 3) await createUser(t);
      } while (cursor !== null);
      assert.deepEqual(seen, all);
    });

    it('answers 422 for a malformed time, an unknown type, a bad limit, user_id or cursor', async () => {
      const bad = [
        ['since', 'yesterday'],
        ['since', '2024-02-30T00:00:00Z'],
        ['until', '2024-01-01T25:00:00Z'],
        ['until', '1704067200'],
        ['type', 'user.hacked'],
        ['limit', '0'],
        ['limit', '101'],
        ['user_id', 'abc'],
        ['cursor', Buffer.from('{"l":"users","p":5}').toString('base64url')],
      ] as const;
      for (const [name, value] of bad) {
        const response = await requestAs(
          t.app,
          admin.accessToken,
          'GET',
          `/audit?${name}=${encodeURIComponent(value)}`,
        );
        assert.equal(response.statusCode, 422, `${name}=${value}`);
        assert.deepEqual(response.json().detail[0].loc, ['query', name], `${name}=${value}`);
      }
    });
  });
}
