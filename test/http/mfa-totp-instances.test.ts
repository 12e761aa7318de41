import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import { bearer, createUser, requestAs, confirmPasswordReset } from '../support/client.ts';
import { codeAt, enrolTotp, mfaOtp, mfaToken, passwordLogin } from '../support/mfa.ts';
import { linkFrom } from '../support/outbox-mail.ts';
import { openRawSql, sharedStoreUrl, type RawSql } from '../support/raw-sql.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// API.md 9 across instances sharing one store, with TOTP secrets sealed at rest (API.md 7).
for (const backend of STORAGE_BACKENDS) {
  describe(
    `TOTP on two instances, secrets sealed (${backend.name})`,
    { skip: backend.skip },
    () => {
      const clock = new ManualClock();
      let one: TestApp;
      let two: TestApp;
      let raw: RawSql;
      before(async () => {
        const env = {
          GATEHOUSE_DATABASE_URL: await sharedStoreUrl(backend),
          GATEHOUSE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        };
        one = await createTestApp({ clock, env });
        two = await createTestApp({ clock, env });
        raw = await openRawSql(env.GATEHOUSE_DATABASE_URL);
      });
      after(async () => {
        await raw?.close();
        await one?.close();
        await two?.close();
      });

      async function enrolled() {
        const login = await createUser(one);
        const enrolment = await enrolTotp(one.app, login.accessToken, clock);
        clock.advance(30);
        return { ...login, ...enrolment };
      }

      it('stores the secret sealed with AES-256-GCM, never as is', async () => {
        const user = await enrolled();
        const param = backend.name === 'postgres' ? '$1' : '?';
        const [row] = await raw.query<{ secret: string; secret_encryption: string }>(
          `select secret, secret_encryption from totp_factors where user_id = ${param}`,
          [user.user.id],
        );
        assert.equal(row?.secret_encryption, 'aes-256-gcm');
        assert.ok(!row?.secret.includes(user.secret));
        const codes = await raw.query<{ code_hash: string }>(
          `select code_hash from recovery_codes where user_id = ${param}`,
          [user.user.id],
        );
        assert.equal(codes.length, 10);
        for (const code of user.recoveryCodes) {
          assert.ok(codes.every((c) => !c.code_hash.includes(code.replace('-', ''))));
        }
      });

      it('accepts a code once across instances: concurrent submissions, exactly one wins', async () => {
        const user = await enrolled();
        const tokens = await Promise.all([
          mfaToken(one.app, user.email),
          mfaToken(two.app, user.email),
        ]);
        const code = codeAt(user.secret, clock);
        const results = await Promise.all([
          mfaOtp(one.app, tokens[0]!, code),
          mfaOtp(two.app, tokens[1]!, code),
        ]);
        assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 400]);
        // An mfa_token from one instance is good on the other.
        const fromOne = await mfaToken(one.app, user.email);
        assert.equal((await mfaOtp(two.app, fromOne, user.recoveryCodes[0]!)).statusCode, 200);
      });

      it('keeps MFA on through a password reset, which voids pending mfa_tokens', async () => {
        const user = await enrolled();
        const pending = await mfaToken(one.app, user.email);
        await one.app.inject({
          method: 'POST',
          url: '/password-reset',
          payload: { email: user.email },
        });
        const { token } = await linkFrom(one.storage, user.email, 'password_reset');
        const newPassword = 'reset to a new passphrase 2026';
        const reset = await confirmPasswordReset(two.app, token, newPassword);
        assert.equal(reset.statusCode, 204, reset.body);
        assert.equal((await mfaOtp(one.app, pending, user.recoveryCodes[0]!)).statusCode, 400);
        const after = await passwordLogin(two.app, user.email, {}, newPassword);
        assert.equal(after.statusCode, 403);
        assert.equal(after.json().error, 'mfa_required');
      });

      it('audits enrolment, use, failure, recovery-code use and reset', async () => {
        const admin = await createUser(one, 'admin');
        const user = await enrolled();
        assert.equal(
          (await mfaOtp(one.app, await mfaToken(one.app, user.email), '111111')).statusCode,
          400,
        );
        const ok = await mfaOtp(
          two.app,
          await mfaToken(two.app, user.email),
          codeAt(user.secret, clock),
        );
        assert.equal(ok.statusCode, 200);
        const recovery = await mfaOtp(
          one.app,
          await mfaToken(one.app, user.email),
          user.recoveryCodes[1]!,
        );
        assert.equal(recovery.statusCode, 200);
        const reset = await requestAs(
          one.app,
          admin.accessToken,
          'DELETE',
          `/users/${user.user.id}/mfa`,
        );
        assert.equal(reset.statusCode, 204);
        const audit = await one.app.inject({
          url: `/audit?user_id=${user.user.id}&limit=100`,
          headers: bearer(admin.accessToken),
        });
        const types = (audit.json().items as { type: string }[]).map((e) => e.type);
        for (const type of [
          'mfa.totp_started',
          'mfa.totp_enabled',
          'mfa.required',
          'mfa.failed',
          'mfa.succeeded',
          'mfa.recovery_code_used',
          'mfa.reset',
        ]) {
          assert.ok(types.includes(type), `${type} in ${types.join(', ')}`);
        }
        // Nothing secret in the audit log: no code, no token.
        assert.doesNotMatch(audit.body, new RegExp(user.recoveryCodes[1]!));
      });
    },
  );
}
