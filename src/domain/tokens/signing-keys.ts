import type { JWK } from 'jose';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { KeyEncryption } from './key-material.ts';
import { KeyRing, type KeyWithdrawal, type SigningKeyInfo } from './key-ring.ts';
import { isAsymmetric, type SigningAlgorithm } from './signing-algorithm.ts';
import { resolveSigningKey, type SettingsRepository } from './signing-key.ts';
import type { SigningKeyRepository } from './signing-key-repository.ts';
import { HmacKeys, type TokenKeys } from './token-keys.ts';

/** The signing keys as the server and the CLI see them (API.md 7). */
export interface SigningKeys {
  readonly algorithm: SigningAlgorithm;
  /** What AccessTokens signs and verifies with. */
  readonly tokenKeys: TokenKeys;
  /** The JWKS `keys`: public keys only; empty under HS256 (a shared secret is never published). */
  publicJwks(): Promise<JWK[]>;
  /** Times this process read the key set from the store (bounded under unknown-kid floods). */
  readonly storeReads: number;
  /** Seconds a retired key stays in the JWKS after its retirement (0 under HS256). */
  readonly publishedAfterRetirementSeconds: number;
  list(): Promise<SigningKeyInfo[]>;
  /** A new active key on every instance; `invalid_input` under HS256. */
  rotate(): Promise<{ kid: string; rotated: boolean }>;
  /**
   * Takes a (compromised) key out of service: an active key is rotated away first, then the key
   * is deleted; every instance refuses its tokens within KEY_SET_MAX_AGE_SECONDS. Undefined for an
   * unknown kid; `invalid_input` under HS256.
   */
  withdraw(kid: string): Promise<KeyWithdrawal | undefined>;
  /** Rotates when GATEHOUSE_KEY_ROTATION_DAYS says so; the new kid, if this call rotated. */
  rotateIfDue(): Promise<string | undefined>;
  /** Housekeeping: deletes keys well past their JWKS window. */
  deleteExpired(): Promise<number>;
}

export interface SigningKeysDeps {
  settings: SettingsRepository;
  repository: SigningKeyRepository;
  clock: Clock;
  /**
   * Seals under GATEHOUSE_KEY_ENCRYPTION_KEY and opens with it (or the previous key, while it is
   * being changed); undefined without it (keys stored unencrypted).
   */
  encryption: KeyEncryption | undefined;
}

export interface SigningKeysSettings {
  alg: SigningAlgorithm;
  hmacSecret: string | undefined;
  accessTokenTtlSeconds: number;
  clockToleranceSeconds: number;
  rotationDays: number;
}

/** The HS256 secret (configured or development), or the store's key ring for the others. */
export async function openSigningKeys(
  deps: SigningKeysDeps,
  settings: SigningKeysSettings,
): Promise<SigningKeys> {
  const { alg } = settings;
  if (!isAsymmetric(alg)) {
    const tokenKeys = new HmacKeys(await resolveSigningKey(settings.hmacSecret, deps.settings));
    const notAsymmetric = (verb: 'rotate' | 'withdraw') =>
      new GatehouseError(
        'invalid_input',
        `GATEHOUSE_JWT_ALG is HS256: there are no stored keys to ${verb}; change GATEHOUSE_JWT_SECRET instead, or choose EdDSA, ES256 or RS256`,
      );
    return {
      algorithm: alg,
      tokenKeys,
      publishedAfterRetirementSeconds: 0,
      storeReads: 0,
      publicJwks: async () => [],
      list: async () => [],
      rotate: async () => {
        throw notAsymmetric('rotate');
      },
      withdraw: async () => {
        throw notAsymmetric('withdraw');
      },
      rotateIfDue: async () => undefined,
      deleteExpired: async () => 0,
    };
  }
  const ring = await KeyRing.open(
    {
      repository: deps.repository,
      clock: deps.clock,
      encryption: deps.encryption,
    },
    { ...settings, alg },
  );
  return {
    algorithm: alg,
    tokenKeys: ring,
    get storeReads() {
      return ring.storeReads;
    },
    publishedAfterRetirementSeconds: ring.publishedAfterRetirementSeconds,
    publicJwks: () => ring.publicJwks(),
    list: () => ring.list(),
    rotate: () => ring.rotate(),
    withdraw: (kid) => ring.withdraw(kid),
    rotateIfDue: () => ring.rotateIfDue(),
    deleteExpired: () => ring.deleteExpired(),
  };
}
