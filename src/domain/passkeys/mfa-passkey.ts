import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { GatehouseError } from '../errors.ts';
import { MFA_TOKEN_MAX_ATTEMPTS, sha256Hex } from '../mfa/mfa-challenge.ts';
import type { MfaRepository } from '../mfa/mfa-repository.ts';
import type { TokenGrant } from '../sessions/issue-tokens.ts';
import type { ClientInfo } from '../sessions/session.ts';
import {
  openPasskeySession,
  passkeyAuthenticationOptions,
  verifyPasskeyAssertion,
  type PasskeyGrantDeps,
} from './passkey-grant.ts';

export interface MfaPasskeyDeps extends PasskeyGrantDeps {
  mfa: MfaRepository;
}

const deadToken = () => new GatehouseError('invalid_grant', 'Unknown, used or expired mfa_token');

/**
 * POST /webauthn/authentication/options with an `mfa_token`: options for the second step of a
 * password grant, with a challenge bound to the token's user and their passkeys listed. Each
 * call counts as one of the token's attempts (MFA_TOKEN_MAX_ATTEMPTS), so it can't be used to
 * mint challenges without end.
 */
export async function mfaPasskeyOptions(
  deps: MfaPasskeyDeps,
  mfaToken: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const live = await deps.mfa.attemptChallenge(
    sha256Hex(mfaToken),
    deps.clock.now(),
    MFA_TOKEN_MAX_ATTEMPTS,
  );
  if (!live) throw deadToken();
  return passkeyAuthenticationOptions(deps, live.userId);
}

/**
 * `grant_type=urn:gatehouse:params:oauth:grant-type:mfa-webauthn` (API.md 9): finishes a
 * password grant that answered `mfa_required` with an assertion of one of the user's passkeys
 * over a challenge bound to that user. The token is consumed only by a verified assertion,
 * and only while the password hash it proved is still the stored one (a reset in between
 * voids it, ASVS 3.3.3).
 */
export async function mfaPasskeyGrant(
  deps: MfaPasskeyDeps,
  input: { mfaToken: string; credential: unknown; client: ClientInfo },
): Promise<TokenGrant> {
  const hash = sha256Hex(input.mfaToken);
  const live = await deps.mfa.attemptChallenge(hash, deps.clock.now(), MFA_TOKEN_MAX_ATTEMPTS);
  if (!live) throw deadToken();
  const { passkey, login } = await verifyPasskeyAssertion(deps, {
    credential: input.credential,
    client: input.client,
    forUser: live.userId,
  });
  if (sha256Hex(login.passwordHash) !== live.passwordDigest) throw deadToken();
  if (!(await deps.mfa.consumeChallenge(hash, deps.clock.now()))) throw deadToken();
  return openPasskeySession(deps, {
    login,
    passkey,
    client: input.client,
    decided: { scope: live.scope, sessionScope: live.sessionScope },
  });
}
