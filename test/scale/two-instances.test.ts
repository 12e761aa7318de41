import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { FORM, STRONG_PASSWORD, uniqueEmail } from '../support/client.ts';
import { startTestServer, type TestApp } from '../support/test-app.ts';

const postgres = STORAGE_BACKENDS.find((b) => b.name === 'postgres')!;

type Server = TestApp & { url: string };

async function call(server: Server, path: string, init: RequestInit = {}) {
  const response = await fetch(new URL(path, server.url), init);
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

function form(fields: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams(fields).toString(),
  };
}

const bearer = (token: unknown): RequestInit => ({
  headers: { authorization: `Bearer ${String(token)}` },
});

describe('two stateless instances sharing one Postgres', { skip: postgres.skip }, () => {
  let a: Server;
  let b: Server;

  before(async () => {
    // No configured secret: both instances must agree on the signing key generated and kept in
    // the store (EdDSA by default since API.md 7; key-rotation-two-instances.test.ts rotates it).
    const env = { GATEHOUSE_DATABASE_URL: await postgres.freshUrl(), GATEHOUSE_JWT_SECRET: '' };
    // One clock, as two hosts kept in sync: tokens one issues are not "from the future" to the
    // other (RFC 7519 4.1.6), however long the second took to start.
    const clock = new ManualClock();
    a = await startTestServer({ env, clock });
    b = await startTestServer({ env, clock });
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  it('registers on A, logs in on B, and a logout on A is refused by B on the next request', async () => {
    const email = uniqueEmail('scale');
    const registered = await call(a, '/users/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: STRONG_PASSWORD }),
    });
    assert.equal(registered.status, 200);

    const login = await call(b, '/token', form({ username: email, password: STRONG_PASSWORD }));
    assert.equal(login.status, 200);
    const token = login.body.access_token;
    assert.equal((await call(a, '/users/me/', bearer(token))).status, 200, "A accepts B's token");

    const refreshed = await call(
      a,
      '/token',
      form({ grant_type: 'refresh_token', refresh_token: String(login.body.refresh_token) }),
    );
    assert.equal(refreshed.status, 200, 'A rotates a refresh token issued by B');

    const logout = await fetch(new URL('/logout', a.url), { method: 'POST', ...bearer(token) });
    assert.equal(logout.status, 204);
    const after = await call(b, '/users/me/', bearer(token));
    assert.equal(after.status, 401);
    assert.equal(after.body.detail, 'Could not validate credentials');
    assert.equal((await call(b, '/users/me/', bearer(refreshed.body.access_token))).status, 401);
  });

  it('revokes on A and B says inactive at once; a client registered on A introspects on B', async () => {
    const email = uniqueEmail('scale');
    await a.services.registerUser({ email, password: STRONG_PASSWORD });
    const login = await call(a, '/token', form({ username: email, password: STRONG_PASSWORD }));
    assert.equal(login.status, 200);
    const { client, secret } = await a.services.createApiClient({ actorId: null, name: 'rs' });
    const basic = `Basic ${Buffer.from(`${client.clientId}:${secret}`).toString('base64')}`;
    const introspectOnB = async () => {
      const init = form({ token: String(login.body.access_token) });
      const response = await call(b, '/introspect', {
        ...init,
        headers: { ...(init.headers as Record<string, string>), authorization: basic },
      });
      assert.equal(response.status, 200);
      return response.body;
    };
    assert.equal((await introspectOnB()).active, true);
    const revoked = await fetch(
      new URL('/revoke', a.url),
      form({ token: String(login.body.refresh_token) }),
    );
    assert.equal(revoked.status, 200);
    assert.deepEqual(await introspectOnB(), { active: false });
    assert.equal((await call(b, '/users/me/', bearer(login.body.access_token))).status, 401);
  });

  it('answers a duplicate registration on B with 400 while A has the address', async () => {
    const email = uniqueEmail('dup');
    const body = (e: string) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: e, password: STRONG_PASSWORD }),
    });
    const results = await Promise.all([
      call(a, '/users/', body(email)),
      call(b, '/users/', body(email.toUpperCase())),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 400]);
  });

  it('turns 100 concurrent registrations of 10 addresses, spread over both, into exactly 10 users', async () => {
    const emails = Array.from({ length: 10 }, () => uniqueEmail('burst'));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        call(i % 2 ? a : b, '/users/', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            email: i % 3 ? emails[i % 10] : emails[i % 10]!.toUpperCase(),
            password: STRONG_PASSWORD,
          }),
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 10);
    assert.equal(statuses.filter((s) => s === 400).length, 90);
    const created = new Set(
      results.filter((r) => r.status === 200).map((r) => String(r.body.email).toLowerCase()),
    );
    assert.equal(created.size, 10);
  });
});
