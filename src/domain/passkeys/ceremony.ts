import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { ChallengePurpose } from './passkey.ts';
import type { PasskeyRepository } from './passkey-repository.ts';

/** The relying party (WebAuthn L2 5.1.3): its RP ID and the one origin assertions must come from. */
export interface RelyingParty {
  /** The host name of GATEHOUSE_PUBLIC_URL (WebAuthn L2 5.1.3: a registrable domain or localhost). */
  id: string;
  name: string;
  /** The origin of GATEHOUSE_PUBLIC_URL; clientDataJSON.origin must equal it (WebAuthn L2 7.1 step 9). */
  origin: string;
}

/** Challenges live 5 minutes (the ceremony's timeout, WebAuthn L2 5.4 `timeout`). */
export const CHALLENGE_TTL_SECONDS = 300;

/** A ceremony's challenge and timeout, as the creation and request options carry them. */
export interface IssuedChallenge {
  challenge: Uint8Array<ArrayBuffer>;
  timeout: number;
}

/**
 * Stores a new single-use challenge of a ceremony, for `purpose` and bound to `userId` (null: a
 * passwordless sign-in, whose user is not known yet), valid CHALLENGE_TTL_SECONDS. WebAuthn L2
 * 13.4.3: at least 16 random bytes; 32 here, stored base64url as clientDataJSON carries it.
 * Undefined when the user no longer exists.
 */
export async function issueChallenge(
  deps: { passkeys: PasskeyRepository; clock: Clock },
  purpose: ChallengePurpose,
  userId: number | null,
): Promise<IssuedChallenge | undefined> {
  const now = deps.clock.now();
  const challenge = randomBytes(32);
  const stored = await deps.passkeys.addChallenge({
    challenge: challenge.toString('base64url'),
    purpose,
    userId,
    createdAt: now,
    expiresAt: new Date(now.getTime() + CHALLENGE_TTL_SECONDS * 1000),
  });
  return stored ? { challenge, timeout: CHALLENGE_TTL_SECONDS * 1000 } : undefined;
}

/**
 * What every ceremony's response is verified against (WebAuthn L2 7.1, 7.2): the challenge
 * consumed for it, the one origin and RP ID of GATEHOUSE_PUBLIC_URL, and user verification
 * (API.md 9: a passkey counts as both factors only with it).
 */
export function expectedBy(rp: RelyingParty, challenge: string) {
  return {
    expectedChallenge: challenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    requireUserVerification: true,
  };
}

/** The credential a client sent, checked for the fields the ceremony reads before it is trusted. */
export interface CredentialJson {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string } & Record<string, unknown>;
  clientExtensionResults: Record<string, unknown>;
  authenticatorAttachment?: string;
}

function bad(message: string, code: 'invalid_passkey' | 'invalid_grant'): GatehouseError {
  return new GatehouseError(code, message);
}

/**
 * Parses the JSON of a PublicKeyCredential (as @simplewebauthn/browser sends it) and reads the
 * challenge in its clientDataJSON, which names the server-side challenge to consume. Nothing
 * in it is trusted yet: the signature check comes after.
 */
export function parseCredential(
  input: unknown,
  code: 'invalid_passkey' | 'invalid_grant',
): { credential: CredentialJson; challenge: string } {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw bad('credential is not valid JSON', code);
    }
  }
  const c = value as Partial<CredentialJson> | null;
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.id !== 'string' ||
    typeof c.rawId !== 'string' ||
    c.type !== 'public-key' ||
    typeof c.response !== 'object' ||
    c.response === null ||
    typeof c.response.clientDataJSON !== 'string'
  ) {
    throw bad('credential is not a WebAuthn public-key credential', code);
  }
  let challenge: unknown;
  try {
    const clientData = JSON.parse(Buffer.from(c.response.clientDataJSON, 'base64url').toString());
    challenge = (clientData as { challenge?: unknown }).challenge;
  } catch {
    throw bad('credential.response.clientDataJSON is not valid', code);
  }
  if (typeof challenge !== 'string' || challenge.length === 0 || challenge.length > 200) {
    throw bad('credential.response.clientDataJSON has no challenge', code);
  }
  const credential: CredentialJson = {
    ...(c as CredentialJson),
    clientExtensionResults:
      typeof c.clientExtensionResults === 'object' && c.clientExtensionResults !== null
        ? c.clientExtensionResults
        : {},
  };
  return { credential, challenge };
}
