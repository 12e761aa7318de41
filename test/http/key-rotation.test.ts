import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader, type JWK } from 'jose';
import { ManualClock } from '../../src/domain/clock.ts';
import { KeyEncryption, SigningKeyUnavailableError } from '../../src/domain/tokens/key-material.ts';
import { createServices } from '../../src/services.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { openRawSql, sharedStoreUrl } from '../support/raw-sql.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { registerAndLogin } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { testConfig } from '../support/test-config.ts';

const TTL = 600;
const TOLERANCE = 5;
// key-ring.ts: a retired key stays published exactly as long as a token it signed can live:
// TTL + tolerance after the last moment it may sign, 5 s after its retirement.
const PUBLISHED_AFTER_RETIREMENT = TTL + TOLERANCE + 5;
const KEY = randomBytes(32).toString('base64');
const OTHER_KEY = randomBytes(32).toString('base64');

async function jwksKids(t: TestApp): Promise<string[]> {
  const response = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  return ((response.json() as { keys: JWK[] }).keys ?? []).map((k) => String(k.kid));
}

async function me(t: TestApp, token: string): Promise<number> {
  const response = await t.app.inject({
    method: 'GET',
    url: '/users/me/',
    headers: { authorization: `Bearer ${token}` },
  });
  return response.statusCode;
}

const kidOf = (token: string) => String(decodeProtectedHeader(token).kid);

for (const backend of STORAGE_BACKENDS) {
  describe(`key rotation (${backend.name})`, { skip: backend.skip }, () => {
    const clock = new ManualClock(new Date('2031-03-01T00:00:00Z'));
    let t: TestApp;
    before(async () => {
      t = await createTestApp({
        clock,
        env: {
          GATEHOUSE_DATABASE_URL: await backend.freshUrl(),
          GATEHOUSE_JWT_ALG: 'EdDSA',
          GATEHOUSE_ACCESS_TOKEN_TTL: String(TTL),
          GATEHOUSE_CLOCK_TOLERANCE: String(TOLERANCE),
          GATEHOUSE_KEY_ROTATION_DAYS: '30',
        },
      });
    });
    after(() => t?.close());

    it('signs with the new key at once, keeps verifying the old one, and drops it after its window', async () => {
      const before = await registerAndLogin(t.app);
      const oldKid = kidOf(before.accessToken);
      const { kid: newKid, rotated } = await t.services.signingKeys.rotate();
      assert.equal(rotated, true);
      assert.notEqual(newKid, oldKid);

      const after = await registerAndLogin(t.app);
      assert.equal(kidOf(after.accessToken), newKid, 'new tokens carry the new kid');
      assert.equal(await me(t, before.accessToken), 200, 'the old key still verifies its tokens');
      assert.equal(await me(t, after.accessToken), 200);
      assert.deepEqual((await jwksKids(t)).sort(), [oldKid, newKid].sort());

      const states = Object.fromEntries(
        (await t.services.signingKeys.list()).map((k) => [k.kid, k.state]),
      );
      assert.deepEqual(states, { [oldKid]: 'retired', [newKid]: 'active' });

      clock.advance(PUBLISHED_AFTER_RETIREMENT - 1);
      assert.deepEqual((await jwksKids(t)).sort(), [oldKid, newKid].sort(), 'still in its window');
      clock.advance(2);
      assert.deepEqual(await jwksKids(t), [newKid], 'gone once no token it signed can live');
      const expired = (await t.services.signingKeys.list()).find((k) => k.kid === oldKid);
      assert.equal(expired?.state, 'expired');
      // Housekeeping deletes it a day later, never the active key.
      assert.equal(await t.services.signingKeys.deleteExpired(), 0);
      clock.advance(86_400);
      assert.equal(await t.services.signingKeys.deleteExpired(), 1);
      assert.deepEqual(
        (await t.services.signingKeys.list()).map((k) => k.kid),
        [newKid],
      );
    });

    it('rotates automatically once the active key is GATEHOUSE_KEY_ROTATION_DAYS old, once', async () => {
      const [active] = await t.services.signingKeys.list();
      assert.ok(active);
      const age = (clock.now().getTime() - active.activatedAt.getTime()) / 1000;
      clock.advance(30 * 86_400 - age - 1);
      assert.equal(await t.services.signingKeys.rotateIfDue(), undefined, 'not yet due');
      clock.advance(1);
      const [first, second] = await Promise.all([
        t.services.signingKeys.rotateIfDue(),
        t.services.signingKeys.rotateIfDue(),
      ]);
      const rotatedTo = first ?? second;
      assert.ok(rotatedTo, 'one of the calls rotated');
      assert.ok(first === undefined || second === undefined, 'only one did');
      const { accessToken } = await registerAndLogin(t.app);
      assert.equal(kidOf(accessToken), rotatedTo);
      const active2 = (await t.services.signingKeys.list()).filter((k) => k.state === 'active');
      assert.deepEqual(
        active2.map((k) => k.kid),
        [rotatedTo],
      );
    });
  });

  describe(`private keys at rest (${backend.name})`, { skip: backend.skip }, () => {
    let url: string;
    const clock = new ManualClock();
    before(async () => {
      url = await sharedStoreUrl(backend);
    });

    const start = async (env: Record<string, string>) =>
      createTestApp({
        clock,
        env: { GATEHOUSE_DATABASE_URL: url, GATEHOUSE_JWT_ALG: 'ES256', ...env },
      });

    it('stores no PKCS#8 plaintext when GATEHOUSE_KEY_ENCRYPTION_KEY is set', async () => {
      const t = await start({ GATEHOUSE_KEY_ENCRYPTION_KEY: KEY });
      try {
        const stored = await t.storage.signingKeys.listAll();
        assert.equal(stored.length, 1);
        const [key] = stored;
        assert.equal(key?.encryption, 'aes-256-gcm');
        assert.match(key?.privateKey ?? '', /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
        // The column opens (under this key and kid only) to the PKCS#8 DER, which it never holds.
        const der = new KeyEncryption(Buffer.from(KEY, 'base64')).open(key!.privateKey, key!.kid);
        assert.equal(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).type, 'private');
        for (const encoding of ['base64', 'base64url', 'hex'] as const) {
          assert.ok(!key!.privateKey.includes(der.toString(encoding).slice(0, 24)), encoding);
        }
        assert.throws(() =>
          new KeyEncryption(Buffer.from(KEY, 'base64')).open(key!.privateKey, 'another-kid'),
        );
        const { accessToken } = await registerAndLogin(t.app);
        assert.equal(await me(t, accessToken), 200);
      } finally {
        await t.close();
      }
    });

    for (const [name, env] of [
      ['a wrong', { GATEHOUSE_KEY_ENCRYPTION_KEY: OTHER_KEY }],
      ['a missing', {}],
    ] as const) {
      it(`refuses to start with ${name} GATEHOUSE_KEY_ENCRYPTION_KEY, clearly, making no new key`, async () => {
        const config = testConfig({
          GATEHOUSE_DATABASE_URL: url,
          GATEHOUSE_JWT_ALG: 'ES256',
          ...env,
        });
        const storage = await openStorage(config.storage.databaseUrl);
        try {
          await assert.rejects(createServices(config, storage, { clock }), (error: unknown) => {
            assert.ok(error instanceof SigningKeyUnavailableError, String(error));
            assert.match(error.message, /GATEHOUSE_KEY_ENCRYPTION_KEY/);
            assert.match(error.message, /^signing key [\w-]{43} /);
            return true;
          });
          assert.equal((await storage.signingKeys.listAll()).length, 1, 'no key was added');
        } finally {
          await storage.close();
        }
      });
    }

    it('starts again with the right key, signing with the same kid', async () => {
      const t = await start({ GATEHOUSE_KEY_ENCRYPTION_KEY: KEY });
      try {
        const [stored] = await t.storage.signingKeys.listAll();
        const { accessToken } = await registerAndLogin(t.app);
        assert.equal(kidOf(accessToken), stored?.kid);
      } finally {
        await t.close();
      }
    });

    it('answers 401, never a 500, when a stored public JWK is malformed; refuses to start on a malformed active one', async () => {
      let t = await start({ GATEHOUSE_KEY_ENCRYPTION_KEY: KEY });
      const { accessToken: oldToken } = await registerAndLogin(t.app);
      const oldKid = kidOf(oldToken);
      const { kid: activeKid } = await t.services.signingKeys.rotate();
      await t.close();
      const raw = await openRawSql(url);
      const mark = backend.name === 'postgres' ? '$1' : '?';
      const corrupt = (kid: string, jwk: string) =>
        raw.query(
          `update signing_keys set public_jwk = ${mark} where kid = ${mark === '?' ? '?' : '$2'}`,
          [jwk, kid],
        );
      try {
        for (const malformed of [
          '{"kty":"EC"',
          '{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA","alg":"ES256"}',
          '[]',
        ]) {
          await corrupt(oldKid, malformed);
          t = await start({ GATEHOUSE_KEY_ENCRYPTION_KEY: KEY });
          try {
            assert.deepEqual(await jwksKids(t), [activeKid], malformed);
            assert.equal(await me(t, oldToken), 401, malformed);
            const { accessToken } = await registerAndLogin(t.app);
            assert.equal(await me(t, accessToken), 200);
          } finally {
            await t.close();
          }
        }
        await corrupt(activeKid, '{"kty":"EC"');
        const config = testConfig({
          GATEHOUSE_DATABASE_URL: url,
          GATEHOUSE_JWT_ALG: 'ES256',
          GATEHOUSE_KEY_ENCRYPTION_KEY: KEY,
        });
        const storage = await openStorage(config.storage.databaseUrl);
        try {
          await assert.rejects(createServices(config, storage, { clock }), (error: unknown) => {
            assert.ok(error instanceof SigningKeyUnavailableError, String(error));
            assert.match(error.message, /is not a valid ES256 JWK/);
            return true;
          });
        } finally {
          await storage.close();
        }
      } finally {
        await raw.close();
      }
    });

    it('keys the login throttle with the key encryption key, not a secret kept in the store', async () => {
      const throttleUrl = await sharedStoreUrl(backend);
      const t = await createTestApp({
        clock,
        env: {
          GATEHOUSE_DATABASE_URL: throttleUrl,
          GATEHOUSE_JWT_SECRET: '',
          GATEHOUSE_KEY_ENCRYPTION_KEY: KEY,
        },
      });
      const raw = await openRawSql(throttleUrl);
      try {
        assert.equal(t.config.tokens.algorithm, 'EdDSA');
        const rows = await raw.query<{ key: string }>('select key from settings');
        assert.deepEqual(
          rows.map((r) => r.key),
          [],
          'no throttle key (nor HS256 secret) in the store',
        );
      } finally {
        await raw.close();
        await t.close();
      }
    });

    it('stores keys unencrypted in development without the key (start-up warns)', async () => {
      const t = await createTestApp({
        clock,
        env: { GATEHOUSE_DATABASE_URL: await backend.freshUrl(), GATEHOUSE_JWT_ALG: 'RS256' },
      });
      try {
        const [key] = await t.storage.signingKeys.listAll();
        assert.equal(key?.encryption, 'none');
        assert.match(key?.privateKey ?? '', /^MII/);
      } finally {
        await t.close();
      }
    });
  });
}
