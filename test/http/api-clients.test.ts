import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearer, createUser, logIn } from '../support/client.ts';
import { basicAuthorization, introspect } from '../support/api-clients.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

interface PublicClient {
  id: number;
  client_id: string;
  name: string;
  created_at: string;
}

for (const backend of STORAGE_BACKENDS) {
  describe(`admin API over API clients (${backend.name})`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend);

    const as = (token: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
      suite.t.app.inject({ method, url, headers: bearer(token), payload });

    it('creates a client (secret shown once), lists it without the secret, and deletes it', async () => {
      const admin = await createUser(suite.t, 'admin');
      const created = await as(admin.accessToken, 'POST', '/clients', { name: '  Billing API ' });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.headers['cache-control'], 'no-store');
      const body = created.json() as PublicClient & { client_secret: string };
      assert.deepEqual(Object.keys(body).sort(), [
        'client_id',
        'client_secret',
        'created_at',
        'id',
        'name',
      ]);
      assert.equal(body.name, 'Billing API');
      assert.match(body.client_id, /^gh_[A-Za-z0-9_-]{22}$/);
      assert.match(body.client_secret, /^[A-Za-z0-9_-]{43}$/);

      // The secret works for introspection.
      const user = await createUser(suite.t);
      const auth = { authorization: basicAuthorization(body.client_id, body.client_secret) };
      assert.equal((await introspect(suite.t.app, user.accessToken, auth)).statusCode, 200);

      const listed = await as(admin.accessToken, 'GET', '/clients/');
      assert.equal(listed.statusCode, 200);
      assert.equal(listed.body.includes(body.client_secret), false);
      const { items } = listed.json() as { items: PublicClient[] };
      const { client_secret: _secret, ...visible } = body;
      assert.deepEqual(
        items.find((c) => c.id === body.id),
        visible,
      );
      for (const item of items) {
        assert.deepEqual(Object.keys(item).sort(), ['client_id', 'created_at', 'id', 'name']);
      }

      const deleted = await as(admin.accessToken, 'DELETE', `/clients/${body.id}/`);
      assert.equal(deleted.statusCode, 204);
      assert.equal(deleted.body, '');
      // Deleted: its credentials fail at once.
      assert.equal((await introspect(suite.t.app, user.accessToken, auth)).statusCode, 401);
      const again = await as(admin.accessToken, 'DELETE', `/clients/${body.id}`);
      assert.equal(again.statusCode, 404);
    });

    it('audits creation and deletion with the admin as actor, never the secret', async () => {
      const admin = await createUser(suite.t, 'admin');
      const created = await as(admin.accessToken, 'POST', '/clients', { name: 'Audited' });
      const body = created.json() as PublicClient & { client_secret: string };
      await as(admin.accessToken, 'DELETE', `/clients/${body.id}`);
      const { items } = await suite.t.services.listAuditEvents(
        { userId: admin.user.id },
        { limit: 5 },
      );
      const [deletion, creation] = items;
      assert.equal(deletion?.type, 'client.deleted');
      assert.equal(creation?.type, 'client.created');
      for (const entry of [deletion, creation]) {
        assert.equal(entry?.actorId, admin.user.id);
        assert.deepEqual(entry?.details, { client_id: body.client_id, name: 'Audited' });
        assert.equal(JSON.stringify(entry).includes(body.client_secret), false);
      }
    });

    it('refuses users (403 Not enough permissions) and admins holding only the me scope', async () => {
      const user = await createUser(suite.t);
      const admin = await createUser(suite.t, 'admin');
      const meOnly = await logIn(suite.t.app, admin.user, 'me');
      for (const token of [user.accessToken, meOnly.accessToken]) {
        for (const [method, url, payload] of [
          ['GET', '/clients', undefined],
          ['POST', '/clients', { name: 'x' }],
          ['DELETE', '/clients/1', undefined],
        ] as const) {
          const response = await as(token, method, url, payload);
          assert.equal(response.statusCode, 403, `${method} ${url}`);
          assert.deepEqual(response.json(), {
            detail: 'Not enough permissions',
            code: 'permission_denied',
          });
        }
      }
      const anonymous = await suite.t.app.inject({ method: 'GET', url: '/clients' });
      assert.equal(anonymous.statusCode, 401);
    });

    it('answers 404 for an unknown id and 422 for a malformed one', async () => {
      const admin = await createUser(suite.t, 'admin');
      assert.equal((await as(admin.accessToken, 'DELETE', '/clients/999999')).statusCode, 404);
      for (const id of ['abc', '0', '99999999999']) {
        assert.equal((await as(admin.accessToken, 'DELETE', `/clients/${id}`)).statusCode, 422);
      }
    });

    it('answers 422 for a bad name: empty, blank, too long, control characters, missing, extra fields', async () => {
      const admin = await createUser(suite.t, 'admin');
      for (const payload of [
        { name: '' },
        { name: '    ' },
        { name: 'x'.repeat(101) },
        { name: 'line\nbreak' },
        { name: 42 },
        {},
        { name: 'ok', secret: 'chosen' },
      ]) {
        const response = await as(admin.accessToken, 'POST', '/clients', payload);
        assert.equal(response.statusCode, 422, JSON.stringify(payload));
        assert.ok(Array.isArray((response.json() as { detail: unknown }).detail));
      }
      const longest = await as(admin.accessToken, 'POST', '/clients', { name: 'x'.repeat(100) });
      assert.equal(longest.statusCode, 201);
    });
  });
}
