import { randomUUID } from 'node:crypto';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { UserRepository } from '../accounts/user-repository.ts';
import type { AuditDetails, AuditLog } from '../audit/audit-log.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import type { LoginThrottle } from '../throttle/login-throttle.ts';
import type { ClientInfo } from '../client-info.ts';
import { expectedBy, issueChallenge, parseCredential, type RelyingParty } from './ceremony.ts';
import { MAX_PASSKEY_NAME_LENGTH, type Passkey } from './passkey.ts';
import type { PasskeyRepository } from './passkey-repository.ts';

export interface ManagePasskeysDeps {
  users: UserRepository;
  passkeys: PasskeyRepository;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  clock: Clock;
  audit: AuditLog;
  rp: RelyingParty;
}

const MAX_CREDENTIAL_ID_BYTES = 1023;
// WebAuthn L3 5.8.4 AuthenticatorTransport, plus `cable`, the older name of `hybrid`.
const KNOWN_TRANSPORTS = new Set<string>([
  'usb',
  'nfc',
  'ble',
  'smart-card',
  'hybrid',
  'internal',
  'cable',
]);

function notFound(): GatehouseError {
  return new GatehouseError('not_found', 'Passkey not found');
}

/** The WebAuthn user handle: the account id, which carries no personal data (WebAuthn L2 14.6.1). */
export function userHandle(userId: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(String(userId)));
}

function cleanName(name: string | undefined, fallback: string): string {
  const trimmed = (name ?? '').replace(/\p{Cc}/gu, '').trim();
  if (trimmed.length > MAX_PASSKEY_NAME_LENGTH) {
    throw new GatehouseError('invalid_input', `at most ${MAX_PASSKEY_NAME_LENGTH} characters`, {
      field: 'name',
    });
  }
  return trimmed === '' ? fallback : trimmed;
}

/**
 * POST /users/me/passkeys/registration/options: the creation options of a new passkey, after
 * the current password is proven (ASVS 2.1.5 / 6.4: adding an authenticator is a sensitive
 * change, and an access token alone must not let its thief add one). Counted and locked per
 * account like a login (ASVS 2.2.1).
 */
export async function passkeyRegistrationOptions(
  deps: ManagePasskeysDeps,
  input: { userId: number; currentPassword: string },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const login = await deps.users.findCredentialsById(input.userId);
  if (!login) throw new GatehouseError('not_found', 'User not found');
  await deps.throttle.beginAttempt(login.email);
  if (!(await deps.hasher.verify(login.passwordHash, input.currentPassword)).valid) {
    throw new GatehouseError('incorrect_password', 'Incorrect password');
  }
  await deps.throttle.clearFailures(login.email);
  const issued = await issueChallenge(deps, 'registration', login.id);
  if (!issued) throw new GatehouseError('not_found', 'User not found');
  const existing = await deps.passkeys.listForUser(login.id);
  const { generateRegistrationOptions } = await import('@simplewebauthn/server');
  return generateRegistrationOptions({
    rpName: deps.rp.name,
    rpID: deps.rp.id,
    userName: login.email,
    userID: userHandle(login.id),
    ...issued,
    attestationType: 'none',
    // One authenticator holds one passkey of an account (WebAuthn L2 5.4.3).
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
    // API.md 9: discoverable credentials (passwordless sign-in) with user verification.
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
}

/**
 * POST /users/me/passkeys: verifies the attestation against the user's unused registration
 * challenge, the RP ID and the origin (WebAuthn L2 7.1), and stores the credential with its
 * counter and backup flags.
 */
export async function registerPasskey(
  deps: ManagePasskeysDeps,
  input: { userId: number; credential: unknown; name?: string; client?: ClientInfo },
): Promise<Passkey> {
  const { credential, challenge } = parseCredential(input.credential, 'invalid_passkey');
  const name = cleanName(input.name, 'Passkey');
  const now = deps.clock.now();
  const issued = await deps.passkeys.consumeChallenge(challenge, 'registration', now);
  // A challenge of another account's ceremony is as good as none.
  if (!issued || issued.userId !== input.userId) {
    throw new GatehouseError('invalid_passkey', 'Unknown, used or expired challenge');
  }
  // Loaded on first use, not at start (issue 21: peak RSS); outside the try, so a failure
  // to load is an error, not a refused credential.
  const { verifyRegistrationResponse } = await import('@simplewebauthn/server');
  let info;
  try {
    const result = await verifyRegistrationResponse({
      response: credential as unknown as RegistrationResponseJSON,
      ...expectedBy(deps.rp, challenge),
    });
    if (!result.verified) throw new Error('not verified');
    info = result.registrationInfo;
  } catch (error) {
    throw new GatehouseError('invalid_passkey', 'The passkey could not be verified', {
      cause: error,
    });
  }
  // WebAuthn L3 6.1: credential ids are at most 1023 bytes; a longer one is refused (it
  // would also not fit a unique index entry in every store).
  if (Buffer.from(info.credential.id, 'base64url').length > MAX_CREDENTIAL_ID_BYTES) {
    throw new GatehouseError('invalid_passkey', 'The credential id is too long');
  }
  const passkey: Passkey = {
    id: randomUUID(),
    userId: input.userId,
    credentialId: info.credential.id,
    publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
    signCount: info.credential.counter,
    // Client-reported hints: only the names WebAuthn defines are kept (a bounded list).
    transports: [...new Set(info.credential.transports ?? [])].filter((t) =>
      KNOWN_TRANSPORTS.has(t),
    ),
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
    name,
    createdAt: now,
    lastUsedAt: null,
  };
  const outcome = await deps.passkeys.add(passkey);
  if (outcome === 'duplicate') {
    throw new GatehouseError('invalid_passkey', 'This passkey is registered already');
  }
  if (outcome === 'no_user') throw new GatehouseError('not_found', 'User not found');
  await recordOwnPasskeyEvent(deps, input, 'passkey.registered', {
    passkey_id: passkey.id,
    device_type: passkey.deviceType,
  });
  return passkey;
}

/** A passkey change its user made themselves, recorded under their current email. */
async function recordOwnPasskeyEvent(
  deps: ManagePasskeysDeps,
  input: { userId: number; client?: ClientInfo },
  type: 'passkey.registered' | 'passkey.deleted',
  details: AuditDetails,
): Promise<void> {
  const user = await deps.users.findById(input.userId);
  await recordAuditEvent(
    deps,
    type,
    { actorId: input.userId, subjectId: input.userId, email: user?.email ?? null, details },
    input.client,
  );
}

export function listPasskeys(deps: ManagePasskeysDeps, userId: number): Promise<Passkey[]> {
  return deps.passkeys.listForUser(userId);
}

/** PATCH /users/me/passkeys/{id}: another user's passkey is a 404, like an unknown one. */
export async function renamePasskey(
  deps: ManagePasskeysDeps,
  input: { userId: number; id: string; name: string },
): Promise<Passkey> {
  const name = cleanName(input.name, '');
  if (name === '') {
    throw new GatehouseError('invalid_input', 'must not be empty', { field: 'name' });
  }
  if (!(await deps.passkeys.rename(input.userId, input.id, name))) throw notFound();
  const passkey = (await deps.passkeys.listForUser(input.userId)).find((p) => p.id === input.id);
  if (!passkey) throw notFound();
  return passkey;
}

/** DELETE /users/me/passkeys/{id}: another user's passkey is a 404, like an unknown one. */
export async function deletePasskey(
  deps: ManagePasskeysDeps,
  input: { userId: number; id: string; client?: ClientInfo },
): Promise<void> {
  if (!(await deps.passkeys.delete(input.userId, input.id))) throw notFound();
  await recordOwnPasskeyEvent(deps, input, 'passkey.deleted', { passkey_id: input.id });
}
