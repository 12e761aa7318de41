import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import { associatedData } from '../../src/domain/mfa/totp.ts';
import { KeyEncryption } from '../../src/domain/tokens/key-material.ts';
import type { Storage } from '../../src/storage/open-storage.ts';
import { runGatehouse } from '../support/cli-run.ts';
import { createUser } from '../support/client.ts';
import { codeAt, enrolTotp, mfaOtp, mfaToken } from '../support/mfa.ts';
import { sharedStoreUrl } from '../support/raw-sql.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

const hexKey = () => randomBytes(32).toString('hex');

/** Everything sealed at rest, as the store holds it. */
async function atRest(storage: Storage) {
  return {
    keys: await storage.signingKeys.listAll(),
    totp: await storage.mfa.listTotpFactors(0, 1000),
  };
}

for (const backend of STORAGE_BACKENDS) {
  describe(`gatehouse reseal (${backend.name})`, { skip: backend.skip }, () => {
    const clock = new ManualClock();

    /** A store with a signing key and a TOTP-enrolled user, made under `env`'s key (if any). */
    async function storeWith(env: Record<string, string>) {
      const url = await sharedStoreUrl(backend);
      const start = (more: Record<string, string> = {}): Promise<TestApp> =>
        createTestApp({
          clock,
          env: { GATEHOUSE_DATABASE_URL: url, GATEHOUSE_JWT_ALG: 'EdDSA', ...env, ...more },
        });
      const t = await start();
      const login = await createUser(t);
      const { secret } = await enrolTotp(t.app, login.accessToken, clock);
      return { url, t, start, email: login.email, userId: login.user.id, secret };
    }

    it('refuses without GATEHOUSE_KEY_ENCRYPTION_KEY, changing nothing', async () => {
      const store = await storeWith({});
      try {
        const before = await atRest(store.t.storage);
        const run = await runGatehouse({ GATEHOUSE_DATABASE_URL: store.url }, ['reseal']);
        assert.equal(run.code, 1);
        assert.match(
          run.stderr,
          /GATEHOUSE_KEY_ENCRYPTION_KEY: required by gatehouse reseal, which seals every secret at rest under it/,
        );
        assert.equal(run.stdout, '');
        assert.deepEqual(await atRest(store.t.storage), before);
      } finally {
        await store.t.close();
      }
    });

    it('seals a development store (stored unencrypted) under the key; --dry-run first writes nothing', async () => {
      const store = await storeWith({});
      await store.t.close();
      const key = hexKey();
      const env = { GATEHOUSE_DATABASE_URL: store.url, GATEHOUSE_KEY_ENCRYPTION_KEY: key };
      let t = await store.start();
      try {
        const before = await atRest(t.storage);
        assert.deepEqual(
          [...before.keys.map((k) => k.encryption), ...before.totp.map((f) => f.secretEncryption)],
          ['none', 'none'],
        );
        const dry = await runGatehouse(env, ['reseal', '--dry-run']);
        assert.equal(dry.code, 0, dry.stderr);
        assert.deepEqual(dry.stdout.trimEnd().split('\n'), [
          'signing keys: 1 to reseal, 0 already under the current key',
          'TOTP secrets: 1 to reseal, 0 already under the current key',
          'dry run: nothing was written',
        ]);
        assert.deepEqual(await atRest(t.storage), before, 'a dry run writes nothing');

        const run = await runGatehouse(env, ['reseal']);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /^signing keys: 1 resealed, 0 already under the current key$/m);
        assert.match(run.stdout, /^TOTP secrets: 1 resealed, 0 already under the current key$/m);
        assert.ok(!run.stdout.includes(store.secret));
        const after = await atRest(t.storage);
        const encryption = new KeyEncryption(Buffer.from(key, 'hex'));
        assert.equal(after.keys[0]?.encryption, 'aes-256-gcm');
        assert.equal(
          encryption.openWithKey(after.keys[0]!.privateKey, after.keys[0]!.kid)?.key,
          'current',
        );
        const factor = after.totp.find((f) => f.userId === store.userId);
        assert.equal(factor?.secretEncryption, 'aes-256-gcm');
        assert.ok(!factor?.secret.includes(store.secret));
        assert.equal(
          encryption.openWithKey(factor!.secret, associatedData(store.userId))?.key,
          'current',
        );
      } finally {
        await t.close();
      }
      // The server starts under the key, signs, and the user signs in with TOTP.
      t = await store.start({ GATEHOUSE_KEY_ENCRYPTION_KEY: key });
      try {
        clock.advance(30);
        const token = await mfaToken(t.app, store.email);
        const signIn = await mfaOtp(t.app, token, codeAt(store.secret, clock));
        assert.equal(signIn.statusCode, 200, signIn.body);
      } finally {
        await t.close();
      }
      const again = await runGatehouse(env, ['reseal']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^signing keys: 0 resealed, 1 already under the current key$/m);
      assert.match(again.stdout, /^TOTP secrets: 0 resealed, 1 already under the current key$/m);
    });

    it('exits 1 naming every value that opens under neither key, and changes nothing at all', async () => {
      const a = hexKey();
      const store = await storeWith({ GATEHOUSE_KEY_ENCRYPTION_KEY: a });
      try {
        // One more enrolled user, whose secret (and one signing key) got sealed under a third key.
        const stray = await createUser(store.t);
        await enrolTotp(store.t.app, stray.accessToken, clock);
        await store.t.services.signingKeys.rotate();
        const third = new KeyEncryption(randomBytes(32));
        const [retired] = await store.t.storage.signingKeys.listAll();
        const factor = await store.t.storage.mfa.findTotp(stray.user.id);
        assert.equal(
          await store.t.storage.mfa.replaceTotpSecrets([
            {
              userId: stray.user.id,
              fromSecret: factor!.secret,
              secret: third.seal(Buffer.from('JBSWY3DPEHPK3PXP'), associatedData(stray.user.id)),
              secretEncryption: 'aes-256-gcm',
            },
          ]),
          1,
        );
        assert.equal(
          await store.t.storage.signingKeys.replacePrivateKeys([
            {
              kid: retired!.kid,
              fromPrivateKey: retired!.privateKey,
              privateKey: third.seal(Buffer.from('not a key'), retired!.kid),
              encryption: 'aes-256-gcm',
            },
          ]),
          1,
        );
        const before = await atRest(store.t.storage);
        const env = {
          GATEHOUSE_DATABASE_URL: store.url,
          GATEHOUSE_KEY_ENCRYPTION_KEY: hexKey(),
          GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: a,
        };
        for (const args of [['reseal'], ['reseal', '--dry-run']]) {
          const run = await runGatehouse(env, args);
          assert.equal(run.code, 1, run.stdout);
          assert.equal(
            run.stderr,
            `error: nothing was resealed: 2 values open under neither GATEHOUSE_KEY_ENCRYPTION_KEY nor GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: signing key ${retired!.kid}, TOTP secret of user ${stray.user.id}\n`,
          );
          assert.equal(run.stdout, '');
          assert.deepEqual(await atRest(store.t.storage), before, 'nothing changed');
        }
      } finally {
        await store.t.close();
      }
    });
  });
}

describe('gatehouse reseal: configuration', () => {
  let url: string;
  before(async () => {
    url = await sharedStoreUrl(STORAGE_BACKENDS[0]!);
  });

  it('refuses GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS without GATEHOUSE_KEY_ENCRYPTION_KEY, never printing it', async () => {
    const previous = hexKey();
    const run = await runGatehouse(
      { GATEHOUSE_DATABASE_URL: url, GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: previous },
      ['reseal'],
    );
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: set without GATEHOUSE_KEY_ENCRYPTION_KEY/,
    );
    assert.ok(!run.stderr.includes(previous));
  });
});
