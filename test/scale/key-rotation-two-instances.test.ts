import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { ManualClock } from '../../src/domain/clock.ts';
import { buildServer } from '../../src/http/build-server.ts';
import { createServices, type Services } from '../../src/services.ts';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import { sharedStoreUrl } from '../support/raw-sql.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { registerAndLogin, STRONG_PASSWORD, uniqueEmail, requestToken } from '../support/client.ts';
import { testConfig } from '../support/test-config.ts';
import { signingKeysWith } from '../support/signing-key-overrides.ts';

interface Instance {
  app: FastifyInstance;
  services: Services;
  storage: Storage;
  /** Store reads of the key set (listUsable calls) made by this instance. */
  reads: () => number;
  /** Checks of the active kid (activeKid calls) made by this instance. */
  checks: () => number;
}

/** A Gatehouse whose key repository counts its reads: what the store sees of a kid flood. */
async function startInstance(url: string, clock: ManualClock): Promise<Instance> {
  const config = testConfig({ GATEHOUSE_DATABASE_URL: url, GATEHOUSE_JWT_ALG: 'EdDSA' });
  const storage = await openStorage(config.storage.databaseUrl);
  await storage.migrate();
  let reads = 0;
  let checks = 0;
  const inner = storage.signingKeys;
  const counting = signingKeysWith(inner, {
    listUsable: (...args) => ((reads += 1), inner.listUsable(...args)),
    activeKid: (alg) => ((checks += 1), inner.activeKid(alg)),
  });
  const services = await createServices(config, { ...storage, signingKeys: counting }, { clock });
  const app = await buildServer(services, config, { logger: false });
  await app.ready();
  return { app, services, storage, reads: () => reads, checks: () => checks };
}

async function status(instance: Instance, token: string): Promise<number> {
  const response = await instance.app.inject({
    method: 'GET',
    url: '/users/me/',
    headers: { authorization: `Bearer ${token}` },
  });
  return response.statusCode;
}

async function login(instance: Instance, email: string): Promise<string> {
  const response = await requestToken(instance.app, { username: email, password: STRONG_PASSWORD });
  assert.equal(response.statusCode, 200, response.body);
  return String((response.json() as { access_token: string }).access_token);
}

const kidOf = (token: string) => String(decodeProtectedHeader(token).kid);

for (const backend of STORAGE_BACKENDS) {
  describe(`key rotation across two instances (${backend.name})`, { skip: backend.skip }, () => {
    // One clock, as two hosts kept in sync (see two-instances.test.ts).
    const clock = new ManualClock();
    let a: Instance;
    let b: Instance;
    let email: string;

    before(async () => {
      const url = await sharedStoreUrl(backend);
      // Migrated first: two first-time migrations racing is another matter (test/cli/cli.test.ts).
      const setup = await openStorage(url);
      await setup.migrate();
      await setup.close();
      // Both start at once on an empty store: they must end with ONE active key.
      [a, b] = await Promise.all([startInstance(url, clock), startInstance(url, clock)]);
      email = (await registerAndLogin(a.app, uniqueEmail('keys'))).email;
    });
    after(async () => {
      for (const instance of [a, b]) {
        await instance?.app.close();
        await instance?.storage.close();
      }
    });

    it('starts both instances on one shared key', async () => {
      const keys = await a.storage.signingKeys.listAll();
      assert.equal(keys.length, 1);
      const [tokenA, tokenB] = [await login(a, email), await login(b, email)];
      assert.equal(kidOf(tokenA), keys[0]?.kid);
      assert.equal(kidOf(tokenB), keys[0]?.kid);
      assert.equal(await status(b, tokenA), 200);
      assert.equal(await status(a, tokenB), 200);
    });

    it("rotates on A: B's very next token is signed with the new key, no waiting, and B still verifies the old key", async () => {
      const old = await login(b, email);
      const { kid: newKid } = await a.services.signingKeys.rotate();
      // No clock advance: API.md 7, the new key is active at once on every instance.
      const [readsBefore, checksBefore] = [b.reads(), b.checks()];
      const fromB = await login(b, email);
      assert.equal(kidOf(fromB), newKid, 'B signs with the new key at once');
      assert.equal(b.checks() - checksBefore, 1, 'one check of the active kid');
      assert.equal(b.reads() - readsBefore, 1, 'one re-read of the key set, as the kid changed');
      assert.equal(kidOf(await login(b, email)), newKid);
      assert.equal(b.reads() - readsBefore, 1, 'no re-read while the active kid is unchanged');

      assert.equal(await status(a, fromB), 200, "A verifies B's token");
      assert.equal(await status(b, old), 200, "B verifies the old key's tokens");
      assert.equal(await status(a, old), 200, 'the old key still verifies on A');
    });

    it('rotates on A again: B learns the new kid from a token naming it (one read), then signs with it', async () => {
      const { kid: newKid } = await a.services.signingKeys.rotate();
      const fresh = await login(a, email);
      assert.equal(kidOf(fresh), newKid);

      clock.advance(6); // past B's unknown-kid re-read interval (5 s) since its last read
      const readsBefore = b.reads();
      assert.equal(await status(b, fresh), 200, "B learns A's new key on meeting its kid");
      assert.equal(b.reads() - readsBefore, 1, 'one store read');
      assert.equal(kidOf(await login(b, email)), newKid, 'B signs with the new key');
      assert.equal(b.reads() - readsBefore, 1, 'the key set B read already had it');
    });

    it('reads the store a bounded number of times under a flood of unknown kids', async () => {
      const attacker = generateKeyPairSync('ed25519').privateKey;
      const forge = (kid: string) =>
        new SignJWT({ sid: 'x', scope: 'me' })
          .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
          .setSubject('1')
          .setIssuer('http://127.0.0.1:8000')
          .setAudience('gatehouse')
          .setIssuedAt(Math.floor(clock.now().getTime() / 1000))
          .setExpirationTime(Math.floor(clock.now().getTime() / 1000) + 600)
          .setJti(randomBytes(8).toString('hex'))
          .sign(attacker);
      const readsBefore = b.reads();
      // 10 bursts of 30 concurrent requests, 1 s apart: 300 random, well-formed kids in 10 s.
      for (let burst = 0; burst < 10; burst += 1) {
        const tokens = await Promise.all(
          Array.from({ length: 30 }, () =>
            forge(randomBytes(32).toString('base64url').slice(0, 43)),
          ),
        );
        const statuses = await Promise.all(tokens.map((token) => status(b, token)));
        assert.ok(
          statuses.every((s) => s === 401),
          `burst ${burst}: ${statuses.join(',')}`,
        );
        clock.advance(1);
      }
      const reads = b.reads() - readsBefore;
      // At most one read per 5 s (key-ring.ts UNKNOWN_KID_RELOAD_SECONDS), shared by all.
      assert.ok(reads >= 1, 'unknown kids do trigger a re-read');
      assert.ok(reads <= 3, `${reads} store reads for 300 unknown kids in 10 s`);

      // Kids that can't be ours (not a 43-character thumbprint) never reach the store.
      clock.advance(10);
      const junkBefore = b.reads();
      for (const kid of ['../../etc/passwd', 'x'.repeat(44), 'short', 'a b']) {
        assert.equal(await status(b, await forge(kid)), 401);
      }
      assert.equal(b.reads() - junkBefore, 0);
    });
  });
}
