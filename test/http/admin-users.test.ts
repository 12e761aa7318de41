import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  refresh,
  register,
  createUser,
  insertUsers,
  logIn,
  requestToken,
  type LoggedIn,
  requestAs,
} from '../support/client.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { createTestApp, uniqueEmail, type TestApp } from '../support/test-app.ts';

for (const backend of STORAGE_BACKENDS) {
  describe(`admin API over users (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestApp;
    let admin: LoggedIn;
    before(async () => {
      t = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: await backend.freshUrl() } });
      admin = await createUser(t, 'admin');
    });
    after(() => t?.close());

    const asAdmin = (method: 'GET' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
      requestAs(t.app, admin.accessToken, method, url, payload);

    async function listAll(query: string): Promise<{ ids: number[]; pages: number }> {
      const ids: number[] = [];
      let url = `/users/?${query}`;
      for (let pages = 1; pages < 100; pages += 1) {
        const response = await asAdmin('GET', url);
        assert.equal(response.statusCode, 200, response.body);
        const body = response.json() as { items: { id: number }[]; next_cursor: string | null };
        ids.push(...body.items.map((u) => u.id));
        if (body.next_cursor === null) return { ids, pages };
        url = `/users/?${query}&cursor=${encodeURIComponent(body.next_cursor)}`;
      }
      throw new Error('pagination did not end');
    }

    it('pages through every user exactly once, in id order, following next_cursor', async () => {
      const prefix = `page-${Date.now()}`;
      const created = await insertUsers(
        t,
        Array.from({ length: 7 }, (_, i) => `${prefix}-${i}@example.com`),
      );
      const { ids, pages } = await listAll(`limit=3&email_prefix=${prefix}`);
      assert.deepEqual(
        ids,
        created.map((u) => u.id),
      );
      assert.equal(pages, 3, '3 + 3 + 1');

      const everyone = await listAll('limit=2');
      assert.ok(everyone.ids.includes(admin.user.id));
      assert.deepEqual(
        everyone.ids,
        [...everyone.ids].sort((a, b) => a - b),
      );
      assert.equal(new Set(everyone.ids).size, everyone.ids.length, 'no user twice');
    });

    it('returns 50 users per page by default and at most 100', async () => {
      const prefix = `bulk-${Date.now()}`;
      await insertUsers(
        t,
        Array.from({ length: 101 }, (_, i) => `${prefix}-${i}@example.com`),
      );
      const byDefault = await asAdmin('GET', `/users?email_prefix=${prefix}`);
      assert.equal(byDefault.json().items.length, 50);
      assert.equal(typeof byDefault.json().next_cursor, 'string');
      const most = await asAdmin('GET', `/users/?email_prefix=${prefix}&limit=100`);
      assert.equal(most.json().items.length, 100);
    });

    it('filters by email prefix case-insensitively, with % and _ taken literally', async () => {
      const tag = `Pfx${Date.now()}`;
      const [match] = await insertUsers(t, [
        `${tag}.alice@example.com`,
        `other-${tag}@example.com`,
      ]);
      const response = await asAdmin('GET', `/users/?email_prefix=${tag.toUpperCase()}.AL`);
      assert.deepEqual(
        response.json().items.map((u: { id: number }) => u.id),
        [match!.id],
      );
      const wildcard = await asAdmin('GET', `/users/?email_prefix=${encodeURIComponent('%')}`);
      assert.deepEqual(wildcard.json().items, []);
    });

    it('answers 422 for a limit outside 1..100, a non-integer limit, or a forged cursor', async () => {
      for (const query of ['limit=0', 'limit=101', 'limit=abc', 'limit=1.5']) {
        const response = await asAdmin('GET', `/users/?${query}`);
        assert.equal(response.statusCode, 422, query);
        assert.deepEqual(response.json().detail[0].loc, ['query', 'limit']);
      }
      const forged = [
        'garbage',
        Buffer.from('{"l":"users","p":-1}').toString('base64url'),
        Buffer.from('{"l":"audit","p":5}').toString('base64url'),
        Buffer.from('{"l":"users","p":"1 or 1=1"}').toString('base64url'),
      ];
      for (const cursor of forged) {
        const response = await asAdmin('GET', `/users/?cursor=${cursor}`);
        assert.equal(response.statusCode, 422, cursor);
        assert.deepEqual(response.json().detail[0].loc, ['query', 'cursor']);
      }
    });

    it('returns one user without any password hash, and 404 "User not found" for an unknown id', async () => {
      const other = await createUser(t);
      const response = await asAdmin('GET', `/users/${other.user.id}`);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(Object.keys(response.json()).sort(), [
        'created_at',
        'disabled',
        'email',
        'email_verified',
        'id',
        'mfa_enabled',
        'role',
      ]);
      assert.equal(response.json().email, other.email);
      assert.doesNotMatch(response.body, /argon2|password/i);

      const missing = await asAdmin('GET', '/users/987654');
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().detail, 'User not found');
      for (const method of ['PATCH', 'DELETE'] as const) {
        const response = await asAdmin(
          method,
          '/users/987654',
          method === 'PATCH' ? { role: 'user' } : undefined,
        );
        assert.equal(response.statusCode, 404, method);
        assert.equal(response.json().detail, 'User not found');
      }
      assert.equal((await asAdmin('GET', '/users/abc')).statusCode, 422);
      assert.equal((await asAdmin('GET', '/users/99999999999')).statusCode, 422);
    });

    it('refuses every admin route to a non-admin with 403 and to no token with 401', async () => {
      const user = await createUser(t);
      const routes = [
        ['GET', '/users/'],
        ['GET', `/users/${admin.user.id}`],
        ['PATCH', `/users/${user.user.id}`],
        ['DELETE', `/users/${admin.user.id}`],
        ['GET', '/audit'],
      ] as const;
      for (const [method, url] of routes) {
        const denied = await requestAs(
          t.app,
          user.accessToken,
          method,
          url,
          method === 'PATCH' ? { role: 'admin' } : undefined,
        );
        assert.equal(denied.statusCode, 403, `${method} ${url}`);
        assert.deepEqual(denied.json(), {
          detail: 'Not enough permissions',
          code: 'permission_denied',
        });
        const anonymous = await t.app.inject({ method, url });
        assert.equal(anonymous.statusCode, 401, `${method} ${url}`);
        assert.equal(anonymous.json().detail, 'Not authenticated');
      }
      const me = await requestAs(t.app, user.accessToken, 'GET', '/users/me');
      assert.equal(me.json().role, 'user', 'the PATCH above changed nothing');
    });

    it('promotes a user, whose open session gains admin rights on its next request', async () => {
      const user = await createUser(t);
      // A session opened with an explicit `scope=me` must stay without admin rights.
      const narrow = await logIn(t.app, user.user, 'me');
      const patched = await asAdmin('PATCH', `/users/${user.user.id}`, { role: 'admin' });
      assert.equal(patched.statusCode, 200);
      assert.equal(patched.json().role, 'admin');
      // The session asked for no particular scope, so it holds whatever the role allows now
      // (API.md 3: the role is read on every request and a change takes effect immediately).
      const promoted = await requestAs(t.app, user.accessToken, 'GET', '/users/');
      assert.equal(promoted.statusCode, 200);
      const refused = await requestAs(t.app, narrow.accessToken, 'GET', '/users/');
      assert.equal(refused.statusCode, 403);
      const fresh = await logIn(t.app, user.user);
      assert.equal(fresh.scope, 'me admin');
    });

    it('refuses a PATCH with an unknown field, a bad role or a non-boolean disabled (422)', async () => {
      const user = await createUser(t);
      for (const payload of [
        { disable: true },
        { role: 'root' },
        { disabled: 'yes' },
        { role: 'admin', is_admin: true },
      ]) {
        const response = await asAdmin('PATCH', `/users/${user.user.id}`, payload);
        assert.equal(response.statusCode, 422, JSON.stringify(payload));
      }
      const unknown = await asAdmin('PATCH', `/users/${user.user.id}`, { disable: true });
      assert.deepEqual(unknown.json().detail[0].loc, ['body', 'disable']);
      const still = await asAdmin('GET', `/users/${user.user.id}`);
      assert.equal(still.json().role, 'user');
      assert.equal(still.json().disabled, false);
    });

    it('disabling ends every session at once; re-enabling lets the user log in again', async () => {
      const target = await createUser(t);
      const second = await logIn(t.app, target.user);
      const disabled = await asAdmin('PATCH', `/users/${target.user.id}`, { disabled: true });
      assert.equal(disabled.statusCode, 200);
      assert.equal(disabled.json().disabled, true);

      for (const session of [target, second]) {
        const me = await requestAs(t.app, session.accessToken, 'GET', '/users/me');
        assert.equal(me.statusCode, 401);
        const refreshed = await refresh(t.app, session.refreshToken);
        assert.equal(refreshed.statusCode, 400);
        assert.equal(refreshed.json().error, 'invalid_grant');
      }
      assert.equal((await requestToken(t.app, { username: target.email })).statusCode, 401);
      assert.deepEqual(await t.storage.sessions.listActive(target.user.id, t.clock.now()), []);

      const enabled = await asAdmin('PATCH', `/users/${target.user.id}`, { disabled: false });
      assert.equal(enabled.json().disabled, false);
      const again = await logIn(t.app, target.user);
      const me = await requestAs(t.app, again.accessToken, 'GET', '/users/me');
      assert.equal(me.statusCode, 200);
      // Sessions ended by the disabling stay ended.
      const old = await requestAs(t.app, target.accessToken, 'GET', '/users/me');
      assert.equal(old.statusCode, 401);
    });

    it('deletes a user (204), ending its sessions; the id is then 404', async () => {
      const target = await createUser(t);
      const deleted = await asAdmin('DELETE', `/users/${target.user.id}`);
      assert.equal(deleted.statusCode, 204);
      assert.equal(deleted.body, '');
      const me = await requestAs(t.app, target.accessToken, 'GET', '/users/me');
      assert.equal(me.statusCode, 401);
      assert.equal((await requestToken(t.app, { username: target.email })).statusCode, 401);
      assert.equal((await asAdmin('GET', `/users/${target.user.id}`)).statusCode, 404);
      assert.equal((await asAdmin('DELETE', `/users/${target.user.id}`)).statusCode, 404);
      // The address is free again.
      const again = await register(t.app, target.email, 'another fine passphrase');
      assert.equal(again.statusCode, 200);
    });

    it('lets an admin delete another admin while one remains', async () => {
      const other = await createUser(t, 'admin');
      assert.equal((await asAdmin('DELETE', `/users/${other.user.id}`)).statusCode, 204);
      const list = await requestAs(t.app, other.accessToken, 'GET', '/users/');
      assert.equal(list.statusCode, 401);
    });
  });
}

describe('registration cannot create an admin (mass assignment)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  const attempts: Array<[string, (email: string) => string]> = [
    ['role', (email) => JSON.stringify({ email, password: 'a fine passphrase', role: 'admin' })],
    [
      'is_admin',
      (email) => JSON.stringify({ email, password: 'a fine passphrase', is_admin: true }),
    ],
    [
      '__proto__',
      (email) => `{"email":"${email}","password":"a fine passphrase","__proto__":{"role":"admin"}}`,
    ],
    [
      'constructor.prototype',
      (email) =>
        `{"email":"${email}","password":"a fine passphrase","constructor":{"prototype":{"role":"admin"}}}`,
    ],
    [
      'every field at once',
      (email) =>
        JSON.stringify({
          email,
          password: 'a fine passphrase',
          role: 'admin',
          is_admin: true,
          disabled: false,
          id: 1,
          scope: 'me admin',
        }),
    ],
  ];

  for (const [name, body] of attempts) {
    it(`a registration body with ${name} yields a plain user or a 422, never an admin`, async () => {
      const email = uniqueEmail('mass');
      const response = await t.app.inject({
        method: 'POST',
        url: '/users/',
        headers: { 'content-type': 'application/json' },
        payload: body(email),
      });
      assert.ok(
        [200, 422].includes(response.statusCode),
        `${response.statusCode} ${response.body}`,
      );
      if (response.statusCode === 200) assert.equal(response.json().role, 'user');
      const stored = await t.storage.users.findByEmailForLogin(email);
      assert.equal(stored?.role ?? 'user', 'user');
      if (stored) {
        const token = await requestToken(t.app, { username: email, password: 'a fine passphrase' });
        assert.equal(token.json().scope, 'me');
        assert.equal(
          (
            await requestToken(t.app, {
              username: email,
              password: 'a fine passphrase',
              scope: 'admin',
            })
          ).statusCode,
          400,
        );
      }
      assert.equal(await t.storage.users.countAdmins(), 0);
      assert.equal(({} as Record<string, unknown>).role, undefined, 'Object.prototype untouched');
    });
  }
});
