import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A software WebAuthn authenticator for server tests: an ES256 key pair made with node:crypto,
 * attestation `none` and assertions built byte by byte (WebAuthn L2 6.1 authenticator data,
 * 6.5.4 attested credential data, 5.8.1 client data), so that every check of the server can be
 * made to fail on purpose: origin, RP ID, flags, counter.
 */
export interface SoftCredential {
  id: Buffer;
  privateKey: KeyObject;
  coseKey: Uint8Array;
  userHandle: string | undefined;
  counter: number;
}

const UP = 0x01;
const UV = 0x04;
const BE = 0x08;
const BS = 0x10;
const AT = 0x40;

export interface CeremonyOptions {
  origin: string;
  /** The RP ID the authenticator hashes; defaults to the options' RP ID. */
  rpId?: string;
  /** User verified (default true). */
  uv?: boolean;
  /** Backup eligible and backed up: a synced passkey (default false). */
  backedUp?: boolean;
  /** The counter to sign; default: the credential's counter plus one. */
  counter?: number;
  /** The challenge to sign; default: the options'. */
  challenge?: string;
  type?: string;
  /** The transports the client reports (default `['internal']`). */
  transports?: string[];
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

function flags(o: CeremonyOptions, attested: boolean): number {
  return UP | (o.uv === false ? 0 : UV) | (o.backedUp ? BE | BS : 0) | (attested ? AT : 0);
}

function counterBytes(counter: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(counter);
  return b;
}

function clientData(type: string, challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
}

export function newSoftCredential(idBytes = 32): SoftCredential {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const coseKey = isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x ?? '', 'base64url')],
      [-3, Buffer.from(jwk.y ?? '', 'base64url')],
    ]),
  );
  return { id: randomBytes(idBytes), privateKey, coseKey, userHandle: undefined, counter: 0 };
}

interface CreationOptionsJson {
  challenge: string;
  rp: { id?: string };
  user: { id: string };
}

interface RequestOptionsJson {
  challenge: string;
  rpId?: string;
}

/** navigator.credentials.create(): a registration response with attestation `none`. */
export function createCredential(
  credential: SoftCredential,
  options: CreationOptionsJson,
  o: CeremonyOptions,
) {
  const rpId = o.rpId ?? options.rp.id ?? '';
  credential.userHandle = options.user.id;
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(credential.id.length);
  const authData = Buffer.concat([
    sha256(rpId),
    Buffer.from([flags(o, true)]),
    counterBytes(o.counter ?? credential.counter),
    Buffer.alloc(16), // AAGUID: none
    idLength,
    credential.id,
    Buffer.from(credential.coseKey),
  ]);
  const attestationObject = isoCBOR.encode(
    new Map<string, string | Map<string, string> | Uint8Array>([
      ['fmt', 'none'],
      ['attStmt', new Map<string, string>()],
      ['authData', authData],
    ]),
  );
  return {
    id: b64(credential.id),
    rawId: b64(credential.id),
    type: 'public-key',
    response: {
      clientDataJSON: b64(
        clientData(o.type ?? 'webauthn.create', o.challenge ?? options.challenge, o.origin),
      ),
      attestationObject: b64(attestationObject),
      transports: o.transports ?? ['internal'],
    },
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
  };
}

/** navigator.credentials.get(): an assertion signed with the credential's key. */
export function getAssertion(
  credential: SoftCredential,
  options: RequestOptionsJson,
  o: CeremonyOptions,
) {
  const counter = o.counter ?? credential.counter + 1;
  credential.counter = counter;
  const authData = Buffer.concat([
    sha256(o.rpId ?? options.rpId ?? ''),
    Buffer.from([flags(o, false)]),
    counterBytes(counter),
  ]);
  const data = clientData(o.type ?? 'webauthn.get', o.challenge ?? options.challenge, o.origin);
  // WebAuthn L2 6.3.3: the signature is over authenticatorData || SHA-256(clientDataJSON), DER.
  const signature = sign('sha256', Buffer.concat([authData, sha256(data)]), credential.privateKey);
  return {
    id: b64(credential.id),
    rawId: b64(credential.id),
    type: 'public-key',
    response: {
      clientDataJSON: b64(data),
      authenticatorData: b64(authData),
      signature: b64(signature),
      userHandle: credential.userHandle,
    },
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
  };
}
