// The acceptance: a service that knows only Gatehouse's public URL verifies its tokens
// (Fastify and Express, through the SDK), sees revocation through introspection, and survives
// key rotation and Gatehouse being down. A real Gatehouse and real resource servers, over HTTP.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { ManualClock } from '../../src/domain/clock.ts';
import { createVerifier, type VerifierOptions } from '../../src/resource-server/index.ts';
import { claimsOf, createUser } from '../support/client.ts';
import { registerClient } from '../support/api-clients.ts';
import { freePort } from '../support/free-port.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { createTestApp } from '../support/test-app.ts';
import { gatehouseEnv, startGatehouse, type RunningGatehouse } from './gatehouse.ts';
import { get, startBoth, type ResourceServer } from './resource-servers.ts';

for (const backend of STORAGE_BACKENDS) {
  describe(`the SDK against a real Gatehouse (${backend.name})`, { skip: backend.skip }, () => {
    const clock = new ManualClock();
    const work = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-'));
    let databaseUrl: string;
    let gatehouse: RunningGatehouse;
    let servers: ResourceServer[];
    const closers: (() => Promise<void>)[] = [];

    /** Resource servers (Fastify and Express) with a verifier of these options. */
    async function protectedBy(options: Partial<VerifierOptions> = {}): Promise<ResourceServer[]> {
      const verifier = createVerifier({
        issuer: gatehouse.url,
        audience: 'gatehouse',
        now: () => clock.now(),
        jwksCooldownSeconds: 1,
        ...options,
      });
      const started = await startBoth(verifier, { realm: 'api' });
      closers.push(...started.map((s) => () => s.close()));
      return started;
    }

    async function refusedEverywhere(
      on: ResourceServer[],
      token: string,
      status: number,
      code: string,
    ): Promise<void> {
      for (const server of on) {
        const answer = await get(server, '/me', token);
        assert.equal(answer.status, status, `${server.name}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.code, code, server.name);
      }
    }

    before(async () => {
      // A file, not :memory:, so a second Gatehouse can share the store (and so its keys).
      databaseUrl =
        backend.name === 'sqlite'
          ? `sqlite:${join(work, 'gatehouse.db')}`
          : await backend.freshUrl();
      gatehouse = await startGatehouse(databaseUrl, clock);
      servers = await protectedBy();
    });
    after(async () => {
      for (const close of closers.reverse()) await close();
      await gatehouse?.close();
      rmSync(work, { recursive: true, force: true });
    });

    it('accepts a user token: 200 with its claims on request.auth', async () => {
      const { user, accessToken } = await createUser(gatehouse);
      for (const server of servers) {
        const answer = await get(server, '/me', accessToken);
        assert.equal(answer.status, 200, server.name);
        assert.deepEqual(answer.body, {
          sub: String(user.id),
          userId: user.id,
          scope: ['me'],
          sessionId: claimsOf(accessToken).sid,
        });
      }
    });

    it('answers 401 with WWW-Authenticate when no token is sent', async () => {
      for (const server of servers) {
        const answer = await get(server, '/me');
        assert.equal(answer.status, 401, server.name);
        assert.equal(answer.challenge, 'Bearer realm="api"');
      }
    });

    it('refuses an expired token with token_expired', async () => {
      const { accessToken } = await createUser(gatehouse);
      clock.advance(gatehouse.config.tokens.accessTtl + 60);
      try {
        await refusedEverywhere(servers, accessToken, 401, 'token_expired');
        const answer = await get(servers[0]!, '/me', accessToken);
        assert.match(
          String(answer.challenge),
          /error="invalid_token", error_description="The access token expired"/,
        );
      } finally {
        clock.advance(-(gatehouse.config.tokens.accessTtl + 60));
      }
    });

    it('refuses a tampered token with invalid_signature', async () => {
      const { accessToken } = await createUser(gatehouse);
      const [header, payload, signature] = accessToken.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const forged = Buffer.from(JSON.stringify({ ...claims, scope: 'me admin' })).toString(
        'base64url',
      );
      await refusedEverywhere(
        servers,
        `${header}.${forged}.${signature}`,
        401,
        'invalid_signature',
      );
    });

    it('refuses a token meant for another audience with wrong_audience', async () => {
      const { accessToken } = await createUser(gatehouse);
      const billing = await protectedBy({ audience: 'billing' });
      await refusedEverywhere(billing, accessToken, 401, 'wrong_audience');
    });

    it('refuses a token of another issuer sharing the keys with wrong_issuer', async () => {
      // A second deployment on the same store: same keys, another public URL.
      const other = await createTestApp({
        clock,
        env: gatehouseEnv(databaseUrl, 'http://gatehouse-b.example'),
      });
      closers.push(() => other.close());
      const { accessToken } = await createUser(other);
      assert.equal(claimsOf(accessToken).iss, 'http://gatehouse-b.example');
      await refusedEverywhere(servers, accessToken, 401, 'wrong_issuer');
    });

    it('refuses a token signed by a foreign key with unknown_key', async () => {
      // Another Gatehouse claiming to be this issuer, with keys of its own.
      const impostor = await createTestApp({
        clock,
        env: gatehouseEnv(await backend.freshUrl(), gatehouse.url),
      });
      closers.push(() => impostor.close());
      const { accessToken } = await createUser(impostor);
      assert.equal(claimsOf(accessToken).iss, gatehouse.url);
      await refusedEverywhere(servers, accessToken, 401, 'unknown_key');
    });

    it("requireScope('admin'): 403 for a user's token, 200 for an admin's", async () => {
      const user = await createUser(gatehouse);
      const admin = await createUser(gatehouse, 'admin');
      for (const server of servers) {
        const refused = await get(server, '/admin', user.accessToken);
        assert.equal(refused.status, 403, server.name);
        assert.match(String(refused.challenge), /error="insufficient_scope".*scope="admin"/);
        const allowed = await get(server, '/admin', admin.accessToken);
        assert.equal(allowed.status, 200, server.name);
        assert.deepEqual(allowed.body, { admin: String(admin.user.id) });
      }
    });

    it('keeps verifying across a key rotation: new tokens and the old ones', async () => {
      const before = await createUser(gatehouse);
      for (const server of servers)
        assert.equal((await get(server, '/me', before.accessToken)).status, 200);
      const { kid } = await gatehouse.services.signingKeys.rotate();
      const after = await createUser(gatehouse);
      assert.equal(decodeProtectedHeader(after.accessToken).kid, kid);
      assert.notEqual(decodeProtectedHeader(before.accessToken).kid, kid);
      for (const server of servers) {
        assert.equal((await get(server, '/me', after.accessToken)).status, 200, server.name);
        assert.equal((await get(server, '/me', before.accessToken)).status, 200, server.name);
      }
    });

    it('with introspect, a logout makes the next request 401 token_revoked', async () => {
      const client = await registerClient(gatehouse);
      const introspecting = await protectedBy({
        introspect: { clientId: client.clientId, clientSecret: client.secret, cacheSeconds: 0 },
      });
      const { accessToken } = await createUser(gatehouse);
      for (const server of introspecting)
        assert.equal((await get(server, '/me', accessToken)).status, 200);
      const logout = await fetch(`${gatehouse.url}/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      assert.equal(logout.status, 204);
      await refusedEverywhere(introspecting, accessToken, 401, 'token_revoked');
      // Without introspection the token still verifies until it expires: why the option exists.
      for (const server of servers)
        assert.equal((await get(server, '/me', accessToken)).status, 200);
    });

    it('with introspect and a wrong client secret, fails closed with 503', async () => {
      const client = await registerClient(gatehouse);
      const misconfigured = await protectedBy({
        introspect: { clientId: client.clientId, clientSecret: 'not-the-secret', cacheSeconds: 0 },
      });
      const { accessToken } = await createUser(gatehouse);
      await refusedEverywhere(misconfigured, accessToken, 503, 'introspection_failed');
    });

    it('answers 503 discovery_failed while Gatehouse is down, and recovers when it is up', async () => {
      const port = await freePort();
      const issuer = `http://127.0.0.1:${port}`;
      const waiting = await startBoth(
        createVerifier({ issuer, audience: 'gatehouse', now: () => clock.now() }),
      );
      closers.push(...waiting.map((s) => () => s.close()));
      const { accessToken: early } = await createUser(gatehouse);
      for (const server of waiting) {
        const answer = await get(server, '/me', early);
        assert.equal(answer.status, 503, server.name);
        assert.equal(answer.body.code, 'discovery_failed');
        assert.match(String(answer.body.detail), new RegExp(`metadata of ${issuer}`));
      }
      const late = await startGatehouse(databaseUrl, clock, port);
      closers.push(() => late.close());
      const { accessToken } = await createUser(late);
      for (const server of waiting)
        assert.equal((await get(server, '/me', accessToken)).status, 200, server.name);
    });
  });
}
