import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { decodeProtectedHeader } from 'jose';
import { ManualClock } from '../../src/domain/clock.ts';
import { SIGNING_CHECK_MARGIN_SECONDS } from '../../src/domain/tokens/key-ring.ts';
import { newSigningKey } from '../../src/domain/tokens/key-material.ts';
import { buildServer } from '../../src/http/build-server.ts';
import { createServices } from '../../src/services.ts';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import { freePort } from '../support/free-port.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { registerAndLogin, STRONG_PASSWORD, postForm } from '../support/client.ts';
import { testConfig } from '../support/test-config.ts';
import { signingKeysWith } from '../support/signing-key-overrides.ts';

/**
 * Before each signature Gatehouse asks the store which kid is active (key-ring.ts
 * KeyRing.signer). What a grant does when that read, or the key-set read after a rotation,
 * fails: real store failures, from a Postgres that nobody listens on.
 */
for (const backend of STORAGE_BACKENDS) {
  describe(`signing when the key check fails (${backend.name})`, { skip: backend.skip }, () => {
    const clock = new ManualClock(new Date('2031-04-01T00:00:00Z'));
    const down = { activeKid: false, keySet: false };
    let storage: Storage;
    let unreachable: Storage;
    let app: FastifyInstance;
    let email: string;

    before(async () => {
      const config = testConfig({
        GATEHOUSE_DATABASE_URL: await backend.freshUrl(),
        GATEHOUSE_JWT_ALG: 'EdDSA',
      });
      storage = await openStorage(config.storage.databaseUrl);
      await storage.migrate();
      // Connections are refused: each read fails at once with store_unavailable, as a lost
      // store's do (store-unavailable.ts), through the same SQL repository.
      unreachable = await openStorage(`postgres://postgres@127.0.0.1:${await freePort()}/none`);
      const inner = storage.signingKeys;
      const signingKeys = signingKeysWith(inner, {
        activeKid: (alg) => (down.activeKid ? unreachable.signingKeys : inner).activeKid(alg),
        listUsable: (alg, after) =>
          (down.keySet ? unreachable.signingKeys : inner).listUsable(alg, after),
      });
      const services = await createServices(config, { ...storage, signingKeys }, { clock });
      app = await buildServer(services, config, { logger: false });
      await app.ready();
      ({ email } = await registerAndLogin(app));
    });
    after(async () => {
      await app?.close();
      await storage?.close();
      await unreachable?.close();
    });

    const token = (form: Record<string, string>) =>
      postForm(app, '/token', new URLSearchParams(form).toString());
    const login = () => token({ username: email, password: STRONG_PASSWORD });
    const kidOf = (response: { json(): unknown }) =>
      String(decodeProtectedHeader((response.json() as { access_token: string }).access_token).kid);
    const assertStoreUnavailable = (response: Awaited<ReturnType<typeof login>>) => {
      assert.equal(response.statusCode, 503, response.body);
      assert.equal(response.json().code, 'store_unavailable');
      assert.ok(Number(response.headers['retry-after']) >= 1);
      assert.doesNotMatch(response.body, /access_token/);
    };

    it(`signs with the cached key while a check confirmed it within ${SIGNING_CHECK_MARGIN_SECONDS} s, and answers 503 past that`, async () => {
      const first = await login();
      assert.equal(first.statusCode, 200, first.body);
      const kid = kidOf(first);

      down.activeKid = true;
      clock.advance(SIGNING_CHECK_MARGIN_SECONDS);
      const cached = await login();
      assert.equal(cached.statusCode, 200, 'a blip of the check fails no login');
      assert.equal(kidOf(cached), kid);

      clock.advance(1);
      assertStoreUnavailable(await login());
      const refreshToken = String((cached.json() as { refresh_token: string }).refresh_token);
      assertStoreUnavailable(
        await token({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      );

      down.activeKid = false;
      const back = await login();
      assert.equal(back.statusCode, 200, back.body);
      assert.equal(kidOf(back), kid);
    });

    it('never signs with a key known to be retired: a rotation seen by the check, but a key set that cannot be read, is a 503', async () => {
      const oldKid = kidOf(await login());
      // Another instance rotates.
      const next = await newSigningKey('EdDSA', clock.now(), undefined);
      assert.equal(await storage.signingKeys.rotate(oldKid, next), true);

      down.keySet = true;
      assertStoreUnavailable(await login());
      // Nor when the check then fails too, however recently the old key was confirmed.
      down.activeKid = true;
      assertStoreUnavailable(await login());
      down.activeKid = false;
      down.keySet = false;
      const fresh = await login();
      assert.equal(fresh.statusCode, 200, fresh.body);
      assert.equal(kidOf(fresh), next.kid);
    });
  });
}
