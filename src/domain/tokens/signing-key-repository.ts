import type { AsymmetricAlgorithm } from './signing-algorithm.ts';

/** How a stored private key is kept: PKCS#8 DER in base64, or sealed by KeyEncryption. */
export type PrivateKeyEncryption = 'none' | 'aes-256-gcm';

/** One asymmetric signing key as the store keeps it. Never sent to a client whole. */
export interface StoredSigningKey {
  /** RFC 7638 thumbprint of the public key: unique, and names nothing but the key. */
  readonly kid: string;
  readonly alg: AsymmetricAlgorithm;
  /** The public key as an RFC 7517 JWK, JSON text (kty, crv/x/y or n/e; never `d`). */
  readonly publicJwk: string;
  /** base64 PKCS#8 DER when `encryption` is `none`, else KeyEncryption's sealed text. */
  readonly privateKey: string;
  readonly encryption: PrivateKeyEncryption;
  readonly createdAt: Date;
  readonly activatedAt: Date;
  /** When another key took over signing; null while this key is the active one. */
  readonly retiredAt: Date | null;
}

/** One private key `gatehouse reseal` seals anew: the row's value as read, and what replaces it. */
export interface PrivateKeyChange {
  readonly kid: string;
  /** The stored `privateKey` the change was computed from. */
  readonly fromPrivateKey: string;
  readonly privateKey: string;
  readonly encryption: PrivateKeyEncryption;
}

/**
 * Storage port of the signing keys (API.md 7), shared by every instance. At most one key per
 * algorithm is active (retired_at null); the store enforces it with a partial unique index, so
 * no interleaving of instances can ever leave two active keys.
 */
export interface SigningKeyRepository {
  /** The keys of `alg` that are active or were retired after `retiredAfter`, oldest first. */
  listUsable(alg: AsymmetricAlgorithm, retiredAfter: Date): Promise<StoredSigningKey[]>;
  /**
   * The kid of the active key of `alg`, or undefined when there is none: one single-row read
   * through the partial unique index signing_keys_one_active (no key material is read). Run
   * before every signature, so it must stay that cheap (key-ring.ts KeyRing.signer).
   */
  activeKid(alg: AsymmetricAlgorithm): Promise<string | undefined>;
  /** Every key of every algorithm, oldest first (for `gatehouse keys list`). */
  listAll(): Promise<StoredSigningKey[]>;
  /**
   * Stores `candidate` as the active key of its algorithm unless one is active already, in one
   * conditional INSERT (ON CONFLICT DO NOTHING on the partial unique index): of instances that
   * start at once on an empty store, exactly one key wins. Returns the active key either way.
   */
  insertIfNoneActive(candidate: StoredSigningKey): Promise<StoredSigningKey>;
  /**
   * Retires the active key `expectedActiveKid` at `candidate.activatedAt` and stores `candidate`
   * as the active key, in one transaction whose first statement is the conditional UPDATE
   * (`... where kid = ? and retired_at is null`): it takes the row lock on Postgres and the write
   * lock on SQLite, so of concurrent rotations from the same key exactly one changes anything.
   * Returns false, having changed nothing, when `expectedActiveKid` is no longer active.
   */
  rotate(expectedActiveKid: string, candidate: StoredSigningKey): Promise<boolean>;
  /** Deletes keys retired before `retiredBefore` (past their JWKS window); returns how many. */
  deleteRetiredBefore(retiredBefore: Date): Promise<number>;
  /**
   * Deletes the retired key `kid` (a withdrawal: `gatehouse keys withdraw`) in one conditional
   * DELETE (`... where kid = ? and retired_at is not null`), so an active key is never deleted:
   * it must be rotated away first. Returns whether this call deleted it; of concurrent calls for
   * one key exactly one does.
   */
  deleteRetired(kid: string): Promise<boolean>;
  /**
   * Replaces private keys sealed anew (`gatehouse reseal`) in one transaction, each by one
   * compare-and-set UPDATE (`... where kid = ? and private_key = <fromPrivateKey>`): a key
   * rotated, withdrawn or resealed since it was read is left as it is. Nothing else of a row
   * changes. Returns how many rows it replaced.
   */
  replacePrivateKeys(changes: readonly PrivateKeyChange[]): Promise<number>;
}
