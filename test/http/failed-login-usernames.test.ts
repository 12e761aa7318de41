import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { normalizeEmail } from '../../src/domain/email-address.ts';
import { requestToken, uniqueEmail } from '../support/client.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

// ASVS 7.1.1 / CWE-532: people type their password into the username field. What a
// failed login leaves in the store (audit log, login throttle) must not give it away.

const TYPED_PASSWORD = 'Hunter2-typed-in-the-wrong-box';

for (const backend of STORAGE_BACKENDS) {
  describe(
    `what failed logins store of the username on ${backend.name}`,
    { skip: backend.skip },
    () => {
      const suite = testAppPerSuite(backend);

      async function failedLogins(): Promise<{ email: string | null }[]> {
        return suite.t.storage.audit.list({ type: 'login.failed' }, { limit: 100 });
      }

      it('audits the username only when it is an email address, else a marker', async () => {
        const response = await requestToken(suite.t.app, {
          username: TYPED_PASSWORD,
          password: 'whatever',
        });
        assert.equal(response.statusCode, 401);
        const [latest] = await failedLogins();
        assert.equal(latest?.email, '[not an email address]');

        const email = uniqueEmail('Nobody');
        await requestToken(suite.t.app, { username: ` ${email} `, password: 'whatever' });
        assert.equal((await failedLogins())[0]?.email, email, 'an address is kept as tried');

        const everything = JSON.stringify(await suite.t.storage.audit.list({}, { limit: 100 }));
        assert.ok(!everything.includes(TYPED_PASSWORD), 'the typed password is nowhere');
      });

      it('keys the login throttle with a secret, so a plain hash of the username finds nothing', async () => {
        for (let i = 0; i < 3; i += 1) {
          const response = await requestToken(suite.t.app, {
            username: TYPED_PASSWORD,
            password: 'whatever',
          });
          assert.equal(response.statusCode, 401);
        }
        // Were the key the plain SHA-256 of the username, this would be the 4th attempt.
        const plain = createHash('sha256').update(normalizeEmail(TYPED_PASSWORD)).digest('hex');
        const counted = await suite.t.storage.loginThrottles.countAttempt(
          plain,
          suite.clock.now(),
          {
            failuresBeforeLock: 100,
            firstLockMs: 1000,
            maxLockMs: 1000,
            forgetAfterMs: 86_400_000,
          },
        );
        assert.deepEqual(counted, { outcome: 'counted', failures: 1, lockedUntil: null });
      });
    },
  );
}
