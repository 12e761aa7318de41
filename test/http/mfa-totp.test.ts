import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import {
  bearer,
  createUser,
  FORM,
  logIn,
  STRONG_PASSWORD,
  requestAs,
  postForm,
} from '../support/client.ts';
import { codeAt, enrolTotp, mfaOtp, mfaToken, passwordLogin } from '../support/mfa.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

for (const backend of STORAGE_BACKENDS) {
  describe(
    `TOTP and the MFA step of the password grant (${backend.name})`,
    { skip: backend.skip },
    () => {
      const suite = testAppPerSuite(backend);
      const tick = () => suite.clock.advance(30);

      async function enrolledUser() {
        const login = await createUser(suite.t);
        const { secret, recoveryCodes } = await enrolTotp(
          suite.t.app,
          login.accessToken,
          suite.clock,
        );
        tick();
        return { ...login, secret, recoveryCodes };
      }

      it('enrols only after a correct code, behind the current password', async () => {
        const { app } = suite.t;
        const login = await createUser(suite.t);
        const wrongPassword = await requestAs(
          app,
          login.accessToken,
          'POST',
          '/users/me/mfa/totp',
          { current_password: 'not the password' },
        );
        assert.equal(wrongPassword.statusCode, 400);
        const started = await requestAs(app, login.accessToken, 'POST', '/users/me/mfa/totp', {
          current_password: STRONG_PASSWORD,
        });
        assert.equal(started.statusCode, 200);
        const body = started.json();
        assert.match(body.secret, /^[A-Z2-7]{32}$/);
        assert.match(body.otpauth_uri, /^otpauth:\/\/totp\/.*secret=/);
        assert.match(body.qr_svg, /^<svg[\s\S]*<\/svg>\s*$/);
        // Pending: the password alone still signs in.
        assert.equal((await passwordLogin(app, login.email)).statusCode, 200);
        const wrong = await requestAs(
          app,
          login.accessToken,
          'POST',
          '/users/me/mfa/totp/confirm',
          { code: codeAt(body.secret, suite.clock, 3) },
        );
        assert.equal(wrong.statusCode, 400);
        assert.equal(wrong.json().code, 'invalid_mfa_code');
        const confirmed = await requestAs(
          app,
          login.accessToken,
          'POST',
          '/users/me/mfa/totp/confirm',
          { code: codeAt(body.secret, suite.clock) },
        );
        assert.equal(confirmed.statusCode, 200);
        assert.equal(confirmed.json().recovery_codes.length, 10);
        const me = await app.inject({ url: '/users/me/', headers: bearer(login.accessToken) });
        assert.equal(me.json().mfa_enabled, true);
        const again = await requestAs(app, login.accessToken, 'POST', '/users/me/mfa/totp', {
          current_password: STRONG_PASSWORD,
        });
        assert.equal(again.statusCode, 409);
      });

      it('answers the password grant 403 mfa_required with no token, and wrong passwords as before', async () => {
        const { app } = suite.t;
        const user = await enrolledUser();
        const response = await passwordLogin(app, user.email);
        assert.equal(response.statusCode, 403);
        const body = response.json();
        assert.equal(body.error, 'mfa_required');
        assert.equal(typeof body.error_description, 'string');
        assert.equal(typeof body.detail, 'string');
        assert.ok(body.mfa_token.length >= 43);
        assert.equal(body.access_token, undefined);
        assert.equal(body.refresh_token, undefined);
        assert.equal(response.headers['set-cookie'], undefined);
        // The mfa_token is no access token.
        const asBearer = await app.inject({ url: '/users/me/', headers: bearer(body.mfa_token) });
        assert.equal(asBearer.statusCode, 401);
        const wrong = await passwordLogin(app, user.email, {}, 'wrong password here');
        assert.equal(wrong.statusCode, 401);
        assert.equal(wrong.json().detail, 'Incorrect username or password');
        assert.equal(wrong.json().mfa_token, undefined);
      });

      it('opens a session with a TOTP code; each code works once; ±1 step of skew', async () => {
        const { app } = suite.t;
        const user = await enrolledUser();
        const code = codeAt(user.secret, suite.clock);
        const ok = await mfaOtp(app, await mfaToken(app, user.email), code);
        assert.equal(ok.statusCode, 200, ok.body);
        const tokens = ok.json();
        assert.equal(tokens.token_type, 'bearer');
        assert.equal(ok.headers['cache-control'], 'no-store');
        const me = await app.inject({ url: '/users/me/', headers: bearer(tokens.access_token) });
        assert.equal(me.statusCode, 200);
        // Replay of the same code, with a new mfa_token, within its window: refused.
        const replay = await mfaOtp(app, await mfaToken(app, user.email), code);
        assert.equal(replay.statusCode, 400);
        assert.equal(replay.json().error, 'invalid_grant');
        // One step ahead (a fast phone clock) works; two steps behind does not.
        const late = await mfaOtp(
          app,
          await mfaToken(app, user.email),
          codeAt(user.secret, suite.clock, -2),
        );
        assert.equal(late.statusCode, 400);
        const ahead = await mfaOtp(
          app,
          await mfaToken(app, user.email),
          codeAt(user.secret, suite.clock, 1),
        );
        assert.equal(ahead.statusCode, 200);
        // The current step is now older than the last used one: refused too.
        const older = await mfaOtp(
          app,
          await mfaToken(app, user.email),
          codeAt(user.secret, suite.clock),
        );
        assert.equal(older.statusCode, 400);
        // Refresh tokens keep working without a new code.
        const refreshed = await app.inject({
          method: 'POST',
          url: '/token',
          headers: FORM,
          payload: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: tokens.refresh_token,
          }).toString(),
        });
        assert.equal(refreshed.statusCode, 200);
      });

      it('of concurrent submissions of one code on two mfa_tokens, exactly one wins', async () => {
        const { app } = suite.t;
        const user = await enrolledUser();
        const tokens = await Promise.all([mfaToken(app, user.email), mfaToken(app, user.email)]);
        const code = codeAt(user.secret, suite.clock);
        const results = await Promise.all(tokens.map((t) => mfaOtp(app, t, code)));
        assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 400]);
      });

      it('accepts each recovery code once', async () => {
        const { app } = suite.t;
        const user = await enrolledUser();
        const code = user.recoveryCodes[3]!;
        const first = await mfaOtp(app, await mfaToken(app, user.email), code.toLowerCase());
        assert.equal(first.statusCode, 200, first.body);
        const second = await mfaOtp(app, await mfaToken(app, user.email), code);
        assert.equal(second.statusCode, 400);
        const status = await app.inject({
          url: '/users/me/mfa',
          headers: bearer(first.json().access_token),
        });
        assert.deepEqual(status.json(), {
          mfa_enabled: true,
          totp: 'enabled',
          recovery_codes_left: 9,
        });
      });

      it('spends an mfa_token on success, and refuses it after 5 minutes', async () => {
        const { app } = suite.t;
        const user = await enrolledUser();
        const token = await mfaToken(app, user.email);
        assert.equal((await mfaOtp(app, token, user.recoveryCodes[0]!)).statusCode, 200);
        const reused = await mfaOtp(app, token, user.recoveryCodes[1]!);
        assert.equal(reused.statusCode, 400);
        assert.equal(reused.json().error, 'invalid_grant');
        const stale = await mfaToken(app, user.email);
        suite.clock.advance(301);
        assert.equal((await mfaOtp(app, stale, user.recoveryCodes[1]!)).statusCode, 400);
        // The code was not spent by the refusal.
        assert.equal(
          (await mfaOtp(app, await mfaToken(app, user.email), user.recoveryCodes[1]!)).statusCode,
          200,
        );
      });

      it('kills an mfa_token after 5 wrong codes, and throttles the account across tokens', async () => {
        const { app } = suite.t;
        const user = await enrolledUser();
        const token = await mfaToken(app, user.email);
        for (let i = 0; i < 4; i += 1) {
          assert.equal((await mfaOtp(app, token, '000000')).statusCode, 400);
        }
        // The 5th wrong code: the account's count reaches its limit too.
        assert.equal((await mfaOtp(app, token, '000000')).statusCode, 400);
        suite.clock.advance(60);
        // The token is dead even for the right code.
        const dead = await mfaOtp(app, token, user.recoveryCodes[0]!);
        assert.equal(dead.statusCode, 400);
        // A fresh token: the account is locked after the 6th failure, whichever token carries it.
        const fresh = await mfaToken(app, user.email);
        assert.equal((await mfaOtp(app, fresh, '000000')).statusCode, 400);
        const locked = await mfaOtp(app, fresh, user.recoveryCodes[0]!);
        assert.equal(locked.statusCode, 429);
        assert.ok(Number(locked.headers['retry-after']) >= 1);
        // A correct password does not lift the second-factor lock.
        const another = await mfaToken(app, user.email);
        assert.equal((await mfaOtp(app, another, user.recoveryCodes[0]!)).statusCode, 429);
        suite.clock.advance(60);
        assert.equal((await mfaOtp(app, another, user.recoveryCodes[0]!)).statusCode, 200);
      });

      it('never sets the refresh cookie before the second factor (web UI cookie mode)', async () => {
        const { app } = suite.t;
        const user = await enrolledUser();
        const cookieMode = { 'x-gatehouse-refresh-cookie': '1' };
        const first = await passwordLogin(app, user.email, cookieMode);
        assert.equal(first.statusCode, 403);
        assert.equal(first.headers['set-cookie'], undefined);
        const second = await mfaOtp(
          app,
          first.json().mfa_token,
          codeAt(user.secret, suite.clock),
          cookieMode,
        );
        assert.equal(second.statusCode, 200);
        assert.equal(second.json().refresh_token, undefined);
        assert.match(String(second.headers['set-cookie']), /^gatehouse_refresh=[^;]{43,}/);
      });

      it('keeps MFA on across a password change, and voids mfa_tokens issued before it', async () => {
        const { app } = suite.t;
        const user = await enrolledUser();
        const before = await mfaToken(app, user.email);
        const newPassword = 'another correct horse battery';
        const changed = await requestAs(app, user.accessToken, 'PUT', '/users/me/password', {
          current_password: STRONG_PASSWORD,
          new_password: newPassword,
        });
        assert.equal(changed.statusCode, 204);
        assert.equal((await mfaOtp(app, before, user.recoveryCodes[0]!)).statusCode, 400);
        const after = await passwordLogin(app, user.email, {}, newPassword);
        assert.equal(after.statusCode, 403);
        assert.equal(after.json().error, 'mfa_required');
      });

      it('turns TOTP off with the current password only', async () => {
        const { app } = suite.t;
        const user = await enrolledUser();
        const refused = await requestAs(app, user.accessToken, 'DELETE', '/users/me/mfa/totp', {
          current_password: 'wrong password',
        });
        assert.equal(refused.statusCode, 400);
        assert.equal((await passwordLogin(app, user.email)).statusCode, 403);
        const off = await requestAs(app, user.accessToken, 'DELETE', '/users/me/mfa/totp', {
          current_password: STRONG_PASSWORD,
        });
        assert.equal(off.statusCode, 204);
        assert.equal((await passwordLogin(app, user.email)).statusCode, 200);
      });

      it('lets an admin reset a user’s factors, audited, and shows mfa_enabled', async () => {
        const { app } = suite.t;
        const admin = await createUser(suite.t, 'admin');
        const user = await enrolledUser();
        const shown = await app.inject({
          url: `/users/${user.user.id}`,
          headers: bearer(admin.accessToken),
        });
        assert.equal(shown.json().mfa_enabled, true);
        const byUser = await requestAs(
          app,
          user.accessToken,
          'DELETE',
          `/users/${user.user.id}/mfa`,
        );
        assert.equal(byUser.statusCode, 403);
        const reset = await requestAs(
          app,
          admin.accessToken,
          'DELETE',
          `/users/${user.user.id}/mfa`,
        );
        assert.equal(reset.statusCode, 204);
        assert.equal((await passwordLogin(app, user.email)).statusCode, 200);
        const after = await app.inject({
          url: `/users/${user.user.id}`,
          headers: bearer(admin.accessToken),
        });
        assert.equal(after.json().mfa_enabled, false);
        const audit = await app.inject({
          url: `/audit?user_id=${user.user.id}&type=mfa.reset`,
          headers: bearer(admin.accessToken),
        });
        assert.equal(audit.json().items.length, 1);
        const missing = await requestAs(app, admin.accessToken, 'DELETE', '/users/999999/mfa');
        assert.equal(missing.statusCode, 404);
      });

      it('upgrades an imported bcrypt hash at the password step; the mfa_token stays good', async () => {
        const { app, services, storage } = suite.t;
        const imported = await services.importUser({
          email: `bcrypt-mfa-${Date.now()}@example.com`,
          passwordHash: await bcryptHash(STRONG_PASSWORD, 4),
        });
        const login = await logIn(app, imported);
        const { secret } = await enrolTotp(app, login.accessToken, suite.clock);
        tick();
        const token = await mfaToken(app, imported.email);
        const stored = await storage.users.findByEmailForLogin(imported.email);
        assert.match(stored?.passwordHash ?? '', /^\$argon2id\$/);
        assert.equal((await mfaOtp(app, token, codeAt(secret, suite.clock))).statusCode, 200);
      });

      it('answers malformed mfa-otp requests with a 4xx and a detail', async () => {
        const { app } = suite.t;
        const missing = await postForm(
          app,
          '/token',
          'grant_type=urn%3Agatehouse%3Aparams%3Aoauth%3Agrant-type%3Amfa-otp&otp=123456',
        );
        assert.equal(missing.statusCode, 422);
        const unknown = await mfaOtp(app, 'x'.repeat(5000), 'y'.repeat(5000));
        assert.equal(unknown.statusCode, 400);
        assert.equal(unknown.json().error, 'invalid_grant');
      });
    },
  );
}
