import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { UserRepository } from '../accounts/user-repository.ts';
import type { UserWithHash } from '../accounts/user.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import { grantScope, sessionScopeFor } from '../authz/scopes.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import { openSessionWithTokens, type TokenGrant } from '../sessions/issue-tokens.ts';
import type { ClientInfo } from '../client-info.ts';
import { newSession } from '../sessions/session.ts';
import type { SessionRepository } from '../sessions/session-repository.ts';
import type { AccessTokens } from '../tokens/access-tokens.ts';
import { expectedBy, issueChallenge, parseCredential, type RelyingParty } from './ceremony.ts';
import type { Passkey } from './passkey.ts';
import type { PasskeyRepository } from './passkey-repository.ts';

export interface PasskeyGrantDeps {
  users: UserRepository;
  passkeys: PasskeyRepository;
  sessions: SessionRepository;
  tokens: AccessTokens;
  clock: Clock;
  audit: AuditLog;
  rp: RelyingParty;
  sessionTtlSeconds: number;
  requireVerifiedEmail?: boolean;
}

const refused = (message = 'The passkey was not accepted') =>
  new GatehouseError('invalid_grant', message);

/**
 * POST /webauthn/authentication/options: a single-use challenge for a passwordless sign-in.
 * No allowCredentials: the authenticator offers its discoverable credentials (WebAuthn L2
 * 5.4.3), so the answer reveals nothing about which accounts exist. With `userId` (the MFA
 * step of a password grant) the challenge is bound to that user and lists their passkeys.
 */
export async function passkeyAuthenticationOptions(
  deps: Pick<PasskeyGrantDeps, 'passkeys' | 'clock' | 'rp'>,
  forUser?: number,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const purpose = forUser === undefined ? 'authentication' : 'mfa';
  const issued = await issueChallenge(deps, purpose, forUser ?? null);
  if (!issued) throw refused('Unknown or expired mfa_token');
  const allow = forUser === undefined ? [] : await deps.passkeys.listForUser(forUser);
  const { generateAuthenticationOptions } = await import('@simplewebauthn/server');
  return generateAuthenticationOptions({
    rpID: deps.rp.id,
    ...issued,
    allowCredentials: allow.map((p) => ({ id: p.credentialId, transports: p.transports })),
    // API.md 9: a passkey counts as both factors only with user verification (WebAuthn L2 6.2.3).
    userVerification: 'required',
  });
}

/**
 * Verifies an assertion (WebAuthn L2 7.2): the challenge is consumed first (single use, even
 * when the rest fails), then origin, RP ID, UV flag, signature and counter. `forUser` (MFA)
 * requires the credential to be that user's and the challenge to be bound to them. Failures
 * are audited as `login.failed` with the reason and answered `invalid_grant`.
 */
export async function verifyPasskeyAssertion(
  deps: PasskeyGrantDeps,
  input: { credential: unknown; client: ClientInfo; forUser?: number },
): Promise<{ passkey: Passkey; login: UserWithHash }> {
  const failed = async (reason: string, subjectId: number | null, email: string | null = null) => {
    await recordAuditEvent(
      deps,
      // The MFA step follows a proven password: its failures are the second factor's.
      input.forUser === undefined ? 'login.failed' : 'mfa.failed',
      { subjectId, email, details: { reason, method: 'passkey' } },
      input.client,
    );
    return refused();
  };
  const { credential, challenge } = parseCredential(input.credential, 'invalid_grant');
  const purpose = input.forUser === undefined ? 'authentication' : 'mfa';
  const issued = await deps.passkeys.consumeChallenge(challenge, purpose, deps.clock.now());
  if (!issued || (input.forUser !== undefined && issued.userId !== input.forUser)) {
    throw await failed('passkey_challenge_invalid', input.forUser ?? null);
  }
  const passkey = await deps.passkeys.findByCredentialId(credential.id);
  if (!passkey || (input.forUser !== undefined && passkey.userId !== input.forUser)) {
    throw await failed('passkey_unknown', input.forUser ?? null);
  }
  const login = await deps.users.findCredentialsById(passkey.userId);
  if (!login) throw await failed('passkey_unknown', null);
  // Loaded on first use, not at start (issue 21: peak RSS); outside the try, so a failure
  // to load is an error, not a refused credential.
  const { verifyAuthenticationResponse } = await import('@simplewebauthn/server');
  let info;
  try {
    const result = await verifyAuthenticationResponse({
      response: credential as unknown as AuthenticationResponseJSON,
      ...expectedBy(deps.rp, challenge),
      // Counter 0 here: the library's own counter check is replaced by the audited one below.
      credential: {
        id: passkey.credentialId,
        publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
        counter: 0,
      },
    });
    if (!result.verified) throw new Error('signature not verified');
    info = result.authenticationInfo;
  } catch {
    throw await failed('passkey_not_verified', login.id, login.email);
  }
  // WebAuthn L2 6.1.1 / 7.2 step 21: a counter that did not grow (when either is non-zero)
  // means two authenticators hold this key: a clone. Refused and audited for the operator.
  const grew = info.newCounter > passkey.signCount;
  if ((info.newCounter > 0 || passkey.signCount > 0) && !grew) {
    throw await failed('passkey_counter_regressed', login.id, login.email);
  }
  const recorded = await deps.passkeys.recordUse(passkey.id, passkey.signCount, {
    signCount: info.newCounter,
    backedUp: info.credentialBackedUp,
    at: deps.clock.now(),
  });
  // Another use of this counter value won the race (a replayed or cloned assertion).
  if (!recorded) throw await failed('passkey_counter_regressed', login.id, login.email);
  if (login.disabled) throw await failed('disabled', login.id, login.email);
  return { passkey, login };
}

/**
 * RFC 6749 4.5 extension grant `urn:gatehouse:params:oauth:grant-type:webauthn`: a passkey
 * assertion with user verification signs in without a password and counts as both factors
 * (API.md 9; NIST 800-63B 5.1.8: a multi-factor cryptographic authenticator).
 */
export async function passkeyGrant(
  deps: PasskeyGrantDeps,
  input: { credential: unknown; scope?: string; client: ClientInfo },
): Promise<TokenGrant> {
  const { passkey, login } = await verifyPasskeyAssertion(deps, input);
  return openPasskeySession(deps, { login, passkey, scope: input.scope, client: input.client });
}

/** Opens the session of a verified passwordless assertion and issues its tokens. */
async function openPasskeySession(
  deps: PasskeyGrantDeps,
  input: {
    login: UserWithHash;
    passkey: Passkey;
    scope?: string;
    client: ClientInfo;
  },
): Promise<TokenGrant> {
  const { login } = input;
  const failed = async (reason: string) => {
    await recordAuditEvent(
      deps,
      'login.failed',
      { subjectId: login.id, email: login.email, details: { reason, method: 'passkey' } },
      input.client,
    );
  };
  if (deps.requireVerifiedEmail && !login.emailVerified) {
    await failed('email_not_verified');
    throw new GatehouseError('email_not_verified', 'Email not verified');
  }
  let scope: string;
  try {
    scope = grantScope(input.scope, login.role);
  } catch (error) {
    await failed('invalid_scope');
    throw error;
  }
  const session = newSession({
    userId: login.id,
    client: input.client,
    scope: sessionScopeFor(input.scope, scope),
    now: deps.clock.now(),
    ttlSeconds: deps.sessionTtlSeconds,
  });
  // ASVS 3.3.3: as for a password login, a disable, deletion or password reset that landed
  // meanwhile wins (SessionRepository.create checks the hash read with the user).
  const grant = await openSessionWithTokens(deps, session, login.passwordHash, scope);
  if (!grant) {
    await failed('account_changed');
    throw refused();
  }
  await recordAuditEvent(
    deps,
    'login.succeeded',
    {
      actorId: login.id,
      subjectId: login.id,
      email: login.email,
      details: { session_id: session.id, method: 'passkey', passkey_id: input.passkey.id },
    },
    input.client,
  );
  return grant;
}
