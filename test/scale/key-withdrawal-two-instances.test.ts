import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { decodeProtectedHeader, type JWK } from 'jose';
import { ManualClock } from '../../src/domain/clock.ts';
import { KEY_SET_MAX_AGE_SECONDS } from '../../src/domain/tokens/key-ring.ts';
import { buildServer } from '../../src/http/build-server.ts';
import { createServices, type Services } from '../../src/services.ts';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import { runGatehouse } from '../support/cli-run.ts';
import { sharedStoreUrl } from '../support/raw-sql.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import {
  refresh,
  registerAndLogin,
  requestToken,
  STRONG_PASSWORD,
  uniqueEmail,
} from '../support/client.ts';
import { testConfig } from '../support/test-config.ts';
import { signingKeysWith } from '../support/signing-key-overrides.ts';

/**
 * `gatehouse keys withdraw` (key-ring.ts KeyRing.withdraw) seen by two running instances on one
 * store: each refuses the withdrawn key's tokens, and stops publishing it, within
 * KEY_SET_MAX_AGE_SECONDS, although a withdrawn retired key changes nothing their signer checks.
 */
interface Instance {
  app: FastifyInstance;
  services: Services;
  storage: Storage;
  /** Store reads of the key set (listUsable calls) made by this instance. */
  reads: () => number;
}

const envFor = (url: string) => ({ GATEHOUSE_DATABASE_URL: url, GATEHOUSE_JWT_ALG: 'EdDSA' });

async function startInstance(url: string, clock: ManualClock): Promise<Instance> {
  const config = testConfig(envFor(url));
  const storage = await openStorage(config.storage.databaseUrl);
  await storage.migrate();
  let reads = 0;
  const inner = storage.signingKeys;
  const counting = signingKeysWith(inner, {
    listUsable: (...args) => ((reads += 1), inner.listUsable(...args)),
  });
  const services = await createServices(config, { ...storage, signingKeys: counting }, { clock });
  const app = await buildServer(services, config, { logger: false });
  await app.ready();
  return { app, services, storage, reads: () => reads };
}

async function me(instance: Instance, token: string): Promise<{ status: number; code: unknown }> {
  const response = await instance.app.inject({
    method: 'GET',
    url: '/users/me/',
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.statusCode, code: (response.json() as { code?: unknown }).code };
}

const status = async (instance: Instance, token: string) => (await me(instance, token)).status;

async function jwksKids(instance: Instance): Promise<string[]> {
  const response = await instance.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  return (response.json() as { keys: JWK[] }).keys.map((k) => String(k.kid)).sort();
}

async function login(instance: Instance, email: string) {
  const response = await requestToken(instance.app, { username: email, password: STRONG_PASSWORD });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as { access_token: string; refresh_token: string };
}

const kidOf = (token: string) => String(decodeProtectedHeader(token).kid);

for (const backend of STORAGE_BACKENDS) {
  describe(`key withdrawal across two instances (${backend.name})`, { skip: backend.skip }, () => {
    // One clock, as two hosts kept in sync (see two-instances.test.ts).
    const clock = new ManualClock();
    let url: string;
    let a: Instance;
    let b: Instance;
    let email: string;

    before(async () => {
      url = await sharedStoreUrl(backend);
      const setup = await openStorage(url);
      await setup.migrate();
      await setup.close();
      [a, b] = await Promise.all([startInstance(url, clock), startInstance(url, clock)]);
      email = (await registerAndLogin(a.app, uniqueEmail('withdraw'))).email;
    });
    after(async () => {
      for (const instance of [a, b]) {
        await instance?.app.close();
        await instance?.storage.close();
      }
    });

    it(`refuses a withdrawn retired key's tokens on both instances within ${KEY_SET_MAX_AGE_SECONDS} s, and drops it from both JWKS`, async () => {
      const old = (await login(a, email)).access_token;
      const oldKid = kidOf(old);
      const { kid: newKid } = await a.services.signingKeys.rotate();
      const fresh = (await login(b, email)).access_token;
      assert.equal(kidOf(fresh), newKid);
      for (const instance of [a, b]) {
        assert.equal(await status(instance, old), 200, 'the retired key verifies its tokens');
        assert.deepEqual(await jwksKids(instance), [oldKid, newKid].sort());
      }

      // The operator's command, in its own process, on the same store.
      const run = await runGatehouse(envFor(url), ['keys', 'withdraw', oldKid]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^withdrawn: ${oldKid}$`, 'm'));
      assert.doesNotMatch(run.stdout, /^active:/m, 'a retired key: no rotation');

      clock.advance(KEY_SET_MAX_AGE_SECONDS);
      const readsBefore = [a.reads(), b.reads()];
      for (const instance of [a, b]) {
        assert.deepEqual(await me(instance, old), { status: 401, code: 'invalid_token' });
        assert.equal(await status(instance, fresh), 200, "the new key's tokens still verify");
        assert.deepEqual(await jwksKids(instance), [newKid], 'no longer published');
      }
      assert.deepEqual(
        [a.reads() - readsBefore[0]!, b.reads() - readsBefore[1]!],
        [1, 1],
        'one key-set read per instance for all of that',
      );
      assert.equal(kidOf((await login(a, email)).access_token), newKid);
    });

    it(`withdrawing the active key: both sign with the new key at once, refuse the old one's tokens within ${KEY_SET_MAX_AGE_SECONDS} s, and log no one out`, async () => {
      const pair = await login(b, email);
      const oldKid = kidOf(pair.access_token);
      // A third process on the same store: what the CLI opens (cli/main.ts withServices).
      const config = testConfig(envFor(url));
      const storage = await openStorage(config.storage.databaseUrl);
      let withdrawal;
      try {
        const cli = await createServices(config, storage, { clock });
        withdrawal = await cli.signingKeys.withdraw(oldKid);
      } finally {
        await storage.close();
      }
      const newKid = withdrawal?.replacedBy;
      assert.ok(newKid && newKid !== oldKid, 'rotated first');
      // No clock advance: the signer's check of the active kid sees the rotation at once.
      assert.equal(kidOf((await login(a, email)).access_token), newKid);
      assert.equal(kidOf((await login(b, email)).access_token), newKid);

      clock.advance(KEY_SET_MAX_AGE_SECONDS);
      for (const instance of [a, b]) {
        assert.equal(await status(instance, pair.access_token), 401);
        assert.deepEqual(await jwksKids(instance), [newKid]);
      }
      // The session lives on: its refresh token gets an access token of the new key.
      const refreshed = await refresh(a.app, pair.refresh_token);
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      const access = String((refreshed.json() as { access_token: string }).access_token);
      assert.equal(kidOf(access), newKid);
      assert.equal(await status(b, access), 200);
    });
  });
}
