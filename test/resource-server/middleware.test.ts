// The Fastify plugin and the Express middleware over HTTP, against a local issuer whose answers
// a test can change at will (errors of Gatehouse itself: gatehouse.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { createVerifier, fastifyAuth } from '../../src/resource-server/index.ts';
import { signingKey, startLocalIssuer, type LocalIssuer, type SigningKey } from './local-issuer.ts';
import { get, startBoth, type ResourceServer } from './resource-servers.ts';

describe('resource servers (Fastify and Express) against a local issuer', () => {
  let issuer: LocalIssuer;
  let key: SigningKey;
  let servers: ResourceServer[];

  before(async () => {
    issuer = await startLocalIssuer();
    key = await signingKey('key-1');
    issuer.published = [key];
    servers = await startBoth(createVerifier({ issuer: issuer.url, audience: issuer.audience }), {
      realm: 'api',
    });
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await issuer.close();
  });

  it('puts the claims on request.auth', async () => {
    const token = await issuer.sign(key, { sub: '5', scope: 'me' });
    for (const server of servers) {
      const answer = await get(server, '/me', token);
      assert.equal(answer.status, 200, server.name);
      assert.deepEqual(answer.body, { sub: '5', userId: 5, scope: ['me'], sessionId: 'session-1' });
    }
  });

  it('answers 401 with a bare challenge when no token is sent (RFC 6750 3.1)', async () => {
    for (const server of servers) {
      for (const authorization of [undefined, 'Basic dXNlcjpwYXNz']) {
        const answer = await get(server, '/me', undefined, authorization);
        assert.equal(answer.status, 401, server.name);
        assert.equal(answer.challenge, 'Bearer realm="api"');
        assert.deepEqual(answer.body, { detail: 'Not authenticated', code: 'missing_token' });
      }
    }
  });

  it('answers 401 invalid_token saying why', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await issuer.sign(key, { iat: now - 700, exp: now - 60 });
    for (const server of servers) {
      const answer = await get(server, '/me', expired);
      assert.equal(answer.status, 401, server.name);
      assert.equal(
        answer.challenge,
        'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
      );
      assert.deepEqual(answer.body, { detail: 'The access token expired', code: 'token_expired' });
      const empty = await get(server, '/me', undefined, 'bearer ');
      assert.equal(empty.body.code, 'malformed_token');
      assert.match(String(empty.challenge), /error="invalid_token"/);
    }
  });

  it('answers 403 insufficient_scope with the scope needed, and 200 with it', async () => {
    const user = await issuer.sign(key, { scope: 'me' });
    const admin = await issuer.sign(key, { scope: 'me admin', sub: '1' });
    for (const server of servers) {
      const refused = await get(server, '/admin', user);
      assert.equal(refused.status, 403, server.name);
      assert.equal(
        refused.challenge,
        'Bearer realm="api", error="insufficient_scope", error_description="This needs the scope admin", scope="admin"',
      );
      assert.equal(refused.body.code, 'insufficient_scope');
      const allowed = await get(server, '/admin', admin);
      assert.equal(allowed.status, 200, server.name);
      assert.deepEqual(allowed.body, { admin: '1' });
    }
  });

  it('answers 503 without a challenge when the issuer cannot be read, and keeps serving', async () => {
    const down = await startLocalIssuer();
    const k = await signingKey('k');
    down.published = [k];
    const token = await down.sign(k);
    down.override.metadata = { status: 500, body: '{}' };
    const verifier = createVerifier({ issuer: down.url, audience: 'gatehouse' });
    const downstream = await startBoth(verifier);
    try {
      for (const server of downstream) {
        const answer = await get(server, '/me', token);
        assert.equal(answer.status, 503, server.name);
        assert.equal(answer.challenge, null);
        assert.equal(answer.body.code, 'discovery_failed');
        assert.match(String(answer.body.detail), /metadata/);
      }
      delete down.override.metadata;
      for (const server of downstream)
        assert.equal((await get(server, '/me', token)).status, 200, server.name);
    } finally {
      await Promise.all(downstream.map((s) => s.close()));
      await down.close();
    }
  });

  it('can let anonymous requests through (required: false), and still refuse bad tokens', async () => {
    const open = await startBoth(
      createVerifier({ issuer: issuer.url, audience: issuer.audience }),
      { required: false },
    );
    try {
      for (const server of open) {
        const anonymous = await get(server, '/me');
        assert.equal(anonymous.status, 200, server.name);
        assert.equal(anonymous.body.sub, null);
        assert.equal((await get(server, '/admin')).status, 401, server.name);
        assert.equal((await get(server, '/me', 'garbage')).status, 401, server.name);
      }
    } finally {
      await Promise.all(open.map((s) => s.close()));
    }
  });

  it('Fastify: registered in a child context, it covers that context only', async () => {
    const app = Fastify();
    app.get('/healthz', async () => ({ ok: true }));
    await app.register(async (api) => {
      await api.register(fastifyAuth, {
        verifier: createVerifier({ issuer: issuer.url, audience: issuer.audience }),
      });
      api.get('/private', async (request) => ({ sub: request.auth?.sub }));
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      assert.equal((await fetch(`${url}/private`)).status, 401);
      const token = await issuer.sign(key);
      const ok = await fetch(`${url}/private`, { headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual(await ok.json(), { sub: '42' });
    } finally {
      await app.close();
    }
  });
});
