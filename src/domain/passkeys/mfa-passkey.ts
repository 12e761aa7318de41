import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { GatehouseError, isGatehouseError } from '../errors.ts';
import type { SecondFactorCheck } from '../sessions/complete-mfa-grant.ts';
import { MFA_TOKEN_MAX_ATTEMPTS, sha256Hex } from '../mfa/mfa-challenge.ts';
import type { MfaRepository } from '../mfa/mfa-repository.ts';
import type { ClientInfo } from '../client-info.ts';
import {
  passkeyAuthenticationOptions,
  verifyPasskeyAssertion,
  type PasskeyGrantDeps,
} from './passkey-grant.ts';

export interface MfaPasskeyDeps extends PasskeyGrantDeps {
  mfa: MfaRepository;
}

/**
 * POST /webauthn/mfa/options: options for the second step of a password grant, with a
 * challenge bound to the `mfa_token`'s user and their passkeys listed. Each call counts as one
 * of the token's attempts (MFA_TOKEN_MAX_ATTEMPTS), so it can't mint challenges without end.
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
  if (!live) throw new GatehouseError('invalid_grant', 'Invalid or expired mfa_token');
  return passkeyAuthenticationOptions(deps, live.userId);
}

/**
 * The proof of `grant_type=urn:gatehouse:params:oauth:grant-type:mfa-webauthn` for
 * completeMfaGrant (which counts the attempt on the token and the account, consumes the token
 * and opens the session): an assertion of one of this user's passkeys over a challenge bound
 * to them (WebAuthn L2 7.2). A refused assertion is a wrong proof, audited with its reason.
 */
export function passkeyCheck(
  deps: PasskeyGrantDeps,
  credential: unknown,
  client: ClientInfo,
): SecondFactorCheck {
  return async (user) => {
    try {
      await verifyPasskeyAssertion(deps, { credential, client, forUser: user.id });
      return 'passkey';
    } catch (error) {
      if (isGatehouseError(error, 'invalid_grant')) return undefined;
      throw error;
    }
  };
}
