import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { describe, it } from 'node:test';
import { bearer, createUser, FORM, type LoggedIn, me, STRONG_PASSWORD } from '../support/client.ts';
import {
  createCredential,
  getAssertion,
  newSoftCredential,
  type CeremonyOptions,
  type SoftCredential,
} from '../support/soft-authenticator.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

// Passkeys (API.md 9): registration, management and the passwordless grant, with a
// software authenticator that can break each check the server makes (soft-authenticator.ts).

const PUBLIC_URL = 'https://auth.example.test';
const ORIGIN = PUBLIC_URL;
const WEBAUTHN_GRANT = 'urn:gatehouse:params:oauth:grant-type:webauthn';

for (const backend of STORAGE_BACKENDS) {
  describe(`passkeys on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend, { GATEHOUSE_PUBLIC_URL: PUBLIC_URL });
    const inject = (request: InjectOptions) => suite.t.app.inject(request);

    async function registrationOptions(user: LoggedIn, password = STRONG_PASSWORD) {
      return inject({
        method: 'POST',
        url: '/users/me/passkeys/registration/options',
        headers: bearer(user.accessToken),
        payload: { current_password: password },
      });
    }

    async function register(
      user: LoggedIn,
      credential: SoftCredential,
      o: Partial<CeremonyOptions> = {},
      name?: string,
    ) {
      const options = await registrationOptions(user);
      assert.equal(options.statusCode, 200, options.body);
      const response = createCredential(credential, options.json().options, {
        origin: ORIGIN,
        ...o,
      });
      return inject({
        method: 'POST',
        url: '/users/me/passkeys',
        headers: bearer(user.accessToken),
        payload: { credential: response, ...(name === undefined ? {} : { name }) },
      });
    }

    async function authenticationOptions() {
      const response = await inject({ method: 'POST', url: '/webauthn/authentication/options' });
      assert.equal(response.statusCode, 200, response.body);
      return response.json().options as {
        challenge: string;
        rpId: string;
        userVerification: string;
        allowCredentials?: unknown[];
      };
    }

    function grant(assertion: unknown) {
      return inject({
        method: 'POST',
        url: '/token',
        headers: FORM,
        payload: new URLSearchParams({
          grant_type: WEBAUTHN_GRANT,
          credential: JSON.stringify(assertion),
        }).toString(),
      });
    }

    async function signIn(credential: SoftCredential, o: Partial<CeremonyOptions> = {}) {
      const options = await authenticationOptions();
      return grant(getAssertion(credential, options, { origin: ORIGIN, ...o }));
    }

    function list(user: LoggedIn) {
      return inject({
        method: 'GET',
        url: '/users/me/passkeys',
        headers: bearer(user.accessToken),
      });
    }

    async function userWithPasskey() {
      const user = await createUser(suite.t);
      const credential = newSoftCredential();
      const response = await register(user, credential);
      assert.equal(response.statusCode, 201, response.body);
      return { user, credential, passkeyId: response.json().id as string };
    }

    async function auditTypes(userId: number) {
      const page = await suite.t.services.listAuditEvents({ userId }, { limit: 50 });
      return page.items;
    }

    it('registers two passkeys, lists, renames and deletes them', async () => {
      const user = await createUser(suite.t);
      const first = await register(user, newSoftCredential(), {}, 'Laptop');
      assert.equal(first.statusCode, 201, first.body);
      assert.equal(first.json().name, 'Laptop');
      suite.clock.advance(1);
      const second = await register(user, newSoftCredential(), { backedUp: true });
      assert.equal(second.statusCode, 201, second.body);
      assert.equal(second.json().name, 'Passkey');
      assert.equal(second.json().device_type, 'multiDevice');
      assert.equal(second.json().backed_up, true);

      const listed = (await list(user)).json().items as {
        id: string;
        name: string;
        device_type: string;
        transports: string[];
        last_used_at: null;
      }[];
      assert.deepEqual(
        listed.map((p) => p.name),
        ['Laptop', 'Passkey'],
      );
      assert.equal(listed[0]?.device_type, 'singleDevice');
      assert.deepEqual(listed[0]?.transports, ['internal']);
      assert.equal(listed[0]?.last_used_at, null);
      assert.ok(!('public_key' in (listed[0] ?? {})), 'no key material is returned');

      const renamed = await inject({
        method: 'PATCH',
        url: `/users/me/passkeys/${second.json().id}`,
        headers: bearer(user.accessToken),
        payload: { name: 'Phone' },
      });
      assert.equal(renamed.statusCode, 200, renamed.body);
      assert.equal(renamed.json().name, 'Phone');

      const deleted = await inject({
        method: 'DELETE',
        url: `/users/me/passkeys/${first.json().id}`,
        headers: bearer(user.accessToken),
      });
      assert.equal(deleted.statusCode, 204);
      assert.deepEqual(
        ((await list(user)).json().items as { name: string }[]).map((p) => p.name),
        ['Phone'],
      );
      const types = (await auditTypes(user.user.id)).map((e) => e.type);
      assert.equal(types.filter((t) => t === 'passkey.registered').length, 2);
      assert.ok(types.includes('passkey.deleted'));
    });

    it('asks for the current password before adding a passkey', async () => {
      const user = await createUser(suite.t);
      const wrong = await registrationOptions(user, 'not the password at all');
      assert.equal(wrong.statusCode, 400);
      assert.equal(wrong.json().detail, 'Incorrect password');
      const missing = await inject({
        method: 'POST',
        url: '/users/me/passkeys/registration/options',
        headers: bearer(user.accessToken),
        payload: {},
      });
      assert.equal(missing.statusCode, 422);
      const anonymous = await inject({ method: 'GET', url: '/users/me/passkeys' });
      assert.equal(anonymous.statusCode, 401);
    });

    it('asks for a discoverable credential with user verification, bound to the public URL', async () => {
      const user = await createUser(suite.t);
      const options = (await registrationOptions(user)).json().options;
      assert.equal(options.rp.id, 'auth.example.test');
      assert.equal(options.authenticatorSelection.residentKey, 'required');
      assert.equal(options.authenticatorSelection.userVerification, 'required');
      const auth = await authenticationOptions();
      assert.equal(auth.rpId, 'auth.example.test');
      assert.equal(auth.userVerification, 'required');
      assert.deepEqual(auth.allowCredentials ?? [], []);
    });

    it('signs in without a password: the normal token response and a session', async () => {
      const { user, credential, passkeyId } = await userWithPasskey();
      const response = await signIn(credential);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      const body = response.json();
      assert.equal(body.token_type, 'bearer');
      assert.ok(body.refresh_token);
      const who = await me(suite.t.app, body.access_token);
      assert.equal(who.statusCode, 200);
      assert.equal(who.json().id, user.user.id);
      const listed = (await list(user)).json().items as {
        id: string;
        last_used_at: string | null;
      }[];
      assert.ok(listed.find((p) => p.id === passkeyId)?.last_used_at);
      const success = (await auditTypes(user.user.id)).find((e) => e.type === 'login.succeeded');
      assert.equal(success?.details?.method, 'passkey');
    });

    it('refuses a registration from another origin or for another RP ID', async () => {
      const user = await createUser(suite.t);
      for (const o of [{ origin: 'https://evil.example.test' }, { rpId: 'evil.example.test' }]) {
        const response = await register(user, newSoftCredential(), o);
        assert.equal(response.statusCode, 400, JSON.stringify(o));
        assert.equal(response.json().code, 'invalid_passkey');
      }
      assert.deepEqual((await list(user)).json().items, []);
    });

    it('refuses a credential id over 1023 bytes with 400, and keeps only known transports', async () => {
      const user = await createUser(suite.t);
      const long = await register(user, newSoftCredential(2000));
      assert.equal(long.statusCode, 400, long.body);
      assert.equal(long.json().code, 'invalid_passkey');
      const ok = await register(user, newSoftCredential(), {
        transports: ['usb', 'x'.repeat(500), 'hybrid', 'usb'],
      });
      assert.equal(ok.statusCode, 201, ok.body);
      assert.deepEqual(ok.json().transports, ['usb', 'hybrid']);
    });

    it('refuses a registration without user verification', async () => {
      const user = await createUser(suite.t);
      const response = await register(user, newSoftCredential(), { uv: false });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().code, 'invalid_passkey');
    });

    it("refuses a registration made with another user's challenge", async () => {
      const alice = await createUser(suite.t);
      const bob = await createUser(suite.t);
      const options = (await registrationOptions(alice)).json().options;
      const response = await inject({
        method: 'POST',
        url: '/users/me/passkeys',
        headers: bearer(bob.accessToken),
        payload: { credential: createCredential(newSoftCredential(), options, { origin: ORIGIN }) },
      });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().code, 'invalid_passkey');
    });

    for (const [why, o] of [
      ['from another origin', { origin: 'https://evil.example.test' }],
      ['for another RP ID', { rpId: 'evil.example.test' }],
      ['without user verification', { uv: false }],
      ['of the wrong ceremony type', { type: 'webauthn.create' }],
    ] as const) {
      it(`refuses an assertion ${why} with 400 invalid_grant`, async () => {
        const { user, credential } = await userWithPasskey();
        const response = await signIn(credential, o);
        assert.equal(response.statusCode, 400, response.body);
        assert.equal(response.json().error, 'invalid_grant');
        const failure = (await auditTypes(user.user.id)).find((e) => e.type === 'login.failed');
        assert.equal(failure?.details?.reason, 'passkey_not_verified');
      });
    }

    it('uses a challenge once', async () => {
      const { credential } = await userWithPasskey();
      const options = await authenticationOptions();
      const first = await grant(getAssertion(credential, options, { origin: ORIGIN }));
      assert.equal(first.statusCode, 200, first.body);
      const again = await grant(getAssertion(credential, options, { origin: ORIGIN }));
      assert.equal(again.statusCode, 400);
      assert.equal(again.json().error, 'invalid_grant');
    });

    it('gives one session for one assertion sent twice at once', async () => {
      const { credential } = await userWithPasskey();
      const options = await authenticationOptions();
      const assertion = getAssertion(credential, options, { origin: ORIGIN });
      const answers = await Promise.all([grant(assertion), grant(assertion), grant(assertion)]);
      assert.deepEqual(answers.map((a) => a.statusCode).sort(), [200, 400, 400]);
    });

    it('refuses an expired challenge (5 minutes)', async () => {
      const { credential } = await userWithPasskey();
      const options = await authenticationOptions();
      suite.clock.advance(301);
      const response = await grant(getAssertion(credential, options, { origin: ORIGIN }));
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().error, 'invalid_grant');
    });

    it('refuses a challenge it never issued', async () => {
      const { credential } = await userWithPasskey();
      const options = await authenticationOptions();
      const response = await grant(
        getAssertion(credential, options, { origin: ORIGIN, challenge: 'bm90LWlzc3VlZA' }),
      );
      assert.equal(response.statusCode, 400);
    });

    it('refuses a counter that went backwards (a cloned authenticator) and audits it', async () => {
      const { user, credential } = await userWithPasskey();
      assert.equal((await signIn(credential, { counter: 10 })).statusCode, 200);
      const clone = await signIn(credential, { counter: 5 });
      assert.equal(clone.statusCode, 400);
      const same = await signIn(credential, { counter: 10 });
      assert.equal(same.statusCode, 400);
      const failures = (await auditTypes(user.user.id)).filter((e) => e.type === 'login.failed');
      assert.equal(failures[0]?.details?.reason, 'passkey_counter_regressed');
      assert.equal((await signIn(credential, { counter: 11 })).statusCode, 200);
    });

    it('accepts an authenticator whose counter stays 0 (no counter, WebAuthn L2 6.1.1)', async () => {
      const { credential } = await userWithPasskey();
      assert.equal((await signIn(credential, { counter: 0 })).statusCode, 200);
      assert.equal((await signIn(credential, { counter: 0 })).statusCode, 200);
    });

    it('refuses a deleted passkey', async () => {
      const { user, credential, passkeyId } = await userWithPasskey();
      const deleted = await inject({
        method: 'DELETE',
        url: `/users/me/passkeys/${passkeyId}`,
        headers: bearer(user.accessToken),
      });
      assert.equal(deleted.statusCode, 204);
      const response = await signIn(credential);
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().error, 'invalid_grant');
    });

    it("can't rename or delete another user's passkey (404)", async () => {
      const { passkeyId, user: owner, credential } = await userWithPasskey();
      const other = await createUser(suite.t);
      for (const request of [
        { method: 'DELETE' as const, url: `/users/me/passkeys/${passkeyId}` },
        {
          method: 'PATCH' as const,
          url: `/users/me/passkeys/${passkeyId}`,
          payload: { name: 'x' },
        },
      ]) {
        const response = await inject({ ...request, headers: bearer(other.accessToken) });
        assert.equal(response.statusCode, 404, request.method);
      }
      assert.equal((await list(owner)).json().items.length, 1);
      assert.equal((await signIn(credential)).statusCode, 200);
    });

    it('refuses a disabled user', async () => {
      const { user, credential } = await userWithPasskey();
      await suite.t.storage.users.changeAccess(user.user.id, { disabled: true }, suite.clock.now());
      const response = await signIn(credential);
      assert.equal(response.statusCode, 400);
    });

    describe('as the second factor of a password grant', () => {
      const MFA_WEBAUTHN_GRANT = 'urn:gatehouse:params:oauth:grant-type:mfa-webauthn';

      async function mfaToken(email: string) {
        const response = await inject({
          method: 'POST',
          url: '/token',
          headers: FORM,
          payload: new URLSearchParams({ username: email, password: STRONG_PASSWORD }).toString(),
        });
        assert.equal(response.statusCode, 403, response.body);
        assert.equal(response.json().error, 'mfa_required');
        return response.json().mfa_token as string;
      }

      async function mfaOptions(token: string) {
        return inject({
          method: 'POST',
          url: '/webauthn/mfa/options',
          payload: { mfa_token: token },
        });
      }

      function mfaGrant(token: string, assertion: unknown) {
        return inject({
          method: 'POST',
          url: '/token',
          headers: FORM,
          payload: new URLSearchParams({
            grant_type: MFA_WEBAUTHN_GRANT,
            mfa_token: token,
            credential: JSON.stringify(assertion),
          }).toString(),
        });
      }

      it('a passkey turns MFA on: the password alone gets 403 mfa_required, and mfa_enabled shows it', async () => {
        const { user } = await userWithPasskey();
        const profile = await me(suite.t.app, user.accessToken);
        assert.equal(profile.json().mfa_enabled, true);
        await mfaToken(user.email);
      });

      it('finishes the password grant with a passkey assertion bound to that user', async () => {
        const { user, credential } = await userWithPasskey();
        const token = await mfaToken(user.email);
        const options = await mfaOptions(token);
        assert.equal(options.statusCode, 200, options.body);
        const opts = options.json().options;
        assert.equal(opts.allowCredentials.length, 1);
        const response = await mfaGrant(token, getAssertion(credential, opts, { origin: ORIGIN }));
        assert.equal(response.statusCode, 200, response.body);
        const who = await me(suite.t.app, response.json().access_token);
        assert.equal(who.json().id, user.user.id);
        const types = (await auditTypes(user.user.id)).map((e) => e.type);
        assert.ok(types.includes('mfa.succeeded'));
        // The mfa_token is single use.
        const again = await mfaOptions(token);
        assert.equal(again.statusCode, 400);
      });

      it("refuses another user's passkey, a passwordless challenge and a wrong origin in the MFA step", async () => {
        const { user } = await userWithPasskey();
        const other = await userWithPasskey();
        const token = await mfaToken(user.email);
        const opts = (await mfaOptions(token)).json().options;
        const foreign = await mfaGrant(
          token,
          getAssertion(other.credential, opts, { origin: ORIGIN }),
        );
        assert.equal(foreign.statusCode, 400);
        assert.equal(foreign.json().error, 'invalid_grant');
        const token2 = await mfaToken(other.user.email);
        const passwordless = await authenticationOptions();
        const unbound = await mfaGrant(
          token2,
          getAssertion(other.credential, passwordless, { origin: ORIGIN }),
        );
        assert.equal(unbound.statusCode, 400);
        const opts2 = (await mfaOptions(token2)).json().options;
        const evil = await mfaGrant(
          token2,
          getAssertion(other.credential, opts2, { origin: 'https://evil.example.test' }),
        );
        assert.equal(evil.statusCode, 400);
        const types = (await auditTypes(other.user.user.id)).map((e) => e.type);
        assert.ok(types.includes('mfa.failed'));
      });

      it('refuses an unknown mfa_token', async () => {
        const response = await mfaOptions('not-a-token');
        assert.equal(response.statusCode, 400);
        assert.equal(response.json().error, 'invalid_grant');
      });

      it('deleting the last passkey turns MFA off again', async () => {
        const { user, passkeyId } = await userWithPasskey();
        await inject({
          method: 'DELETE',
          url: `/users/me/passkeys/${passkeyId}`,
          headers: bearer(user.accessToken),
        });
        assert.equal((await me(suite.t.app, user.accessToken)).json().mfa_enabled, false);
        const login = await inject({
          method: 'POST',
          url: '/token',
          headers: FORM,
          payload: new URLSearchParams({
            username: user.email,
            password: STRONG_PASSWORD,
          }).toString(),
        });
        assert.equal(login.statusCode, 200);
      });

      it("an admin's DELETE /users/{id}/mfa removes the passkeys too, audited", async () => {
        const { user, credential } = await userWithPasskey();
        const admin = await createUser(suite.t, 'admin');
        const reset = await inject({
          method: 'DELETE',
          url: `/users/${user.user.id}/mfa`,
          headers: bearer(admin.accessToken),
        });
        assert.equal(reset.statusCode, 204, reset.body);
        assert.deepEqual((await list(user)).json().items, []);
        assert.equal((await signIn(credential)).statusCode, 400);
        assert.equal((await me(suite.t.app, user.accessToken)).json().mfa_enabled, false);
        const types = (await auditTypes(user.user.id)).map((e) => e.type);
        assert.ok(types.includes('mfa.reset'));
      });

      it('a wrong passkey in the MFA step uses up one of the mfa_token attempts', async () => {
        const { user } = await userWithPasskey();
        const stranger = newSoftCredential();
        const token = await mfaToken(user.email);
        for (let i = 0; i < 2; i += 1) {
          const opts = (await mfaOptions(token)).json().options;
          const response = await mfaGrant(token, getAssertion(stranger, opts, { origin: ORIGIN }));
          assert.equal(response.statusCode, 400);
          assert.equal(response.json().error, 'invalid_grant');
        }
        // Two options calls and two grants: four of the five attempts; one more options call
        // is the fifth, and then the token is dead.
        assert.equal((await mfaOptions(token)).statusCode, 200);
        assert.equal((await mfaOptions(token)).statusCode, 400);
      });
    });

    for (const [why, credential] of [
      ['not JSON', '{not json'],
      ['not a credential', JSON.stringify({ id: 1 })],
      [
        'without client data',
        JSON.stringify({ id: 'a', rawId: 'a', type: 'public-key', response: {} }),
      ],
      [
        'with garbage client data',
        JSON.stringify({
          id: 'a',
          rawId: 'a',
          type: 'public-key',
          response: { clientDataJSON: '!!' },
        }),
      ],
    ] as const) {
      it(`answers a credential that is ${why} with 400 invalid_grant`, async () => {
        const response = await inject({
          method: 'POST',
          url: '/token',
          headers: FORM,
          payload: new URLSearchParams({ grant_type: WEBAUTHN_GRANT, credential }).toString(),
        });
        assert.equal(response.statusCode, 400, response.body);
        assert.equal(response.json().error, 'invalid_grant');
      });
    }

    it('answers a grant without a credential with 422 invalid_request', async () => {
      const response = await inject({
        method: 'POST',
        url: '/token',
        headers: FORM,
        payload: `grant_type=${encodeURIComponent(WEBAUTHN_GRANT)}`,
      });
      assert.equal(response.statusCode, 422);
      assert.equal(response.json().error, 'invalid_request');
    });
  });
}
