import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import { associatedData } from '../../src/domain/mfa/totp.ts';
import { KeyEncryption, SigningKeyUnavailableError } from '../../src/domain/tokens/key-material.ts';
import { createServices } from '../../src/services.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { runGatehouse } from '../support/cli-run.ts';
import { createUser, me } from '../support/client.ts';
import { codeAt, enrolTotp, mfaOtp, mfaToken } from '../support/mfa.ts';
import { sharedStoreUrl } from '../support/raw-sql.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { testConfig } from '../support/test-config.ts';

// Changing GATEHOUSE_KEY_ENCRYPTION_KEY (docs/signing-keys.md): every instance restarted with
// the new key and the old one as GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS, then `gatehouse reseal`,
// then every instance restarted with the new key alone (ASVS 4.0 6.4.2: keys can be rotated).
const A = randomBytes(32);
const B = randomBytes(32);
const OLD = { GATEHOUSE_KEY_ENCRYPTION_KEY: A.toString('base64') };
const CHANGING = {
  GATEHOUSE_KEY_ENCRYPTION_KEY: B.toString('base64'),
  GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: A.toString('hex'),
};
const NEW = { GATEHOUSE_KEY_ENCRYPTION_KEY: B.toString('base64') };

for (const backend of STORAGE_BACKENDS) {
  describe(
    `changing GATEHOUSE_KEY_ENCRYPTION_KEY (${backend.name})`,
    { skip: backend.skip },
    () => {
      const clock = new ManualClock();
      let url: string;
      let enrolled: { email: string; secret: string; userId: number };
      let tokenSignedUnderA: string;

      const start = (env: Record<string, string>): Promise<TestApp> =>
        createTestApp({
          clock,
          env: { GATEHOUSE_DATABASE_URL: url, GATEHOUSE_JWT_ALG: 'ES256', ...env },
        });

      /** A TOTP sign-in of the enrolled user, with the code of a fresh time step. */
      async function totpSignIn(t: TestApp): Promise<number> {
        clock.advance(30);
        const token = await mfaToken(t.app, enrolled.email);
        return (await mfaOtp(t.app, token, codeAt(enrolled.secret, clock))).statusCode;
      }

      /** Every value sealed at rest, and which key of `encryption` opens it. */
      async function sealedUnder(t: TestApp, encryption: KeyEncryption) {
        const keys = (await t.storage.signingKeys.listAll()).map((k) => [
          k.encryption,
          encryption.openWithKey(k.privateKey, k.kid)?.key,
        ]);
        const totp = (await t.storage.mfa.listTotpFactors(0, 100)).map((f) => [
          f.secretEncryption,
          encryption.openWithKey(f.secret, associatedData(f.userId))?.key,
        ]);
        return { keys, totp };
      }

      before(async () => {
        url = await sharedStoreUrl(backend);
        // The store as it was made under key A: a retired and an active signing key, a user
        // signing in with TOTP.
        const t = await start(OLD);
        try {
          await t.services.signingKeys.rotate();
          const login = await createUser(t);
          const { secret } = await enrolTotp(t.app, login.accessToken, clock);
          enrolled = { email: login.email, secret, userId: login.user.id };
          tokenSignedUnderA = login.accessToken;
        } finally {
          await t.close();
        }
      });

      it('refuses to start under the new key alone, naming the key and GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS', async () => {
        const config = testConfig({
          GATEHOUSE_DATABASE_URL: url,
          GATEHOUSE_JWT_ALG: 'ES256',
          ...NEW,
        });
        const storage = await openStorage(config.storage.databaseUrl);
        try {
          await assert.rejects(createServices(config, storage, { clock }), (error: unknown) => {
            assert.ok(error instanceof SigningKeyUnavailableError, String(error));
            assert.match(error.message, /^signing key [\w-]{43} cannot be decrypted/);
            assert.match(error.message, /set the old one as GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS/);
            return true;
          });
        } finally {
          await storage.close();
        }
      });

      it('works with the new key and the old one as previous: old tokens, new tokens, TOTP sign-in; new secrets under the new key', async () => {
        const t = await start(CHANGING);
        try {
          assert.equal((await me(t.app, tokenSignedUnderA)).statusCode, 200);
          assert.equal(await totpSignIn(t), 200);
          const second = await createUser(t);
          assert.equal((await me(t.app, second.accessToken)).statusCode, 200);
          await enrolTotp(t.app, second.accessToken, clock);
          const factor = await t.storage.mfa.findTotp(second.user.id);
          assert.equal(
            new KeyEncryption(B).openWithKey(factor!.secret, associatedData(second.user.id))?.key,
            'current',
            'a new enrolment is sealed under the new key alone',
          );
        } finally {
          await t.close();
        }
      });

      it('gatehouse reseal seals everything under the new key; counts only, no secret printed', async () => {
        const run = await runGatehouse({ GATEHOUSE_DATABASE_URL: url, ...CHANGING }, ['reseal']);
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(run.stdout.trimEnd().split('\n'), [
          'signing keys: 2 resealed, 0 already under the current key',
          'TOTP secrets: 1 resealed, 1 already under the current key',
          'Every secret at rest is sealed under GATEHOUSE_KEY_ENCRYPTION_KEY: GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS can now be removed from every instance (then restart each).',
        ]);
        assert.ok(!run.stdout.includes(enrolled.secret) && !run.stderr.includes(enrolled.secret));
      });

      it('then works with the new key alone, and the old key opens nothing stored', async () => {
        const t = await start(NEW);
        try {
          assert.equal((await me(t.app, tokenSignedUnderA)).statusCode, 200);
          assert.equal(await totpSignIn(t), 200);
          const { keys, totp } = await sealedUnder(t, new KeyEncryption(A));
          assert.deepEqual(keys, [
            ['aes-256-gcm', undefined],
            ['aes-256-gcm', undefined],
          ]);
          assert.deepEqual(totp, [
            ['aes-256-gcm', undefined],
            ['aes-256-gcm', undefined],
          ]);
          const underB = await sealedUnder(t, new KeyEncryption(B));
          assert.ok([...underB.keys, ...underB.totp].every(([, key]) => key === 'current'));
        } finally {
          await t.close();
        }
      });

      it('a second reseal reseals nothing', async () => {
        const run = await runGatehouse({ GATEHOUSE_DATABASE_URL: url, ...NEW }, ['reseal']);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /^signing keys: 0 resealed, 2 already under the current key$/m);
        assert.match(run.stdout, /^TOTP secrets: 0 resealed, 2 already under the current key$/m);
      });
    },
  );
}
