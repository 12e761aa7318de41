import type { webcrypto } from 'node:crypto';
import type { JWK } from 'jose';
import type { Clock } from '../clock.ts';
import type { KeyEncryption } from './key-material.ts';
import { newSigningKey, privateKeyOf, signWith, verificationKeyOf } from './key-material.ts';
import type { AsymmetricAlgorithm } from './signing-algorithm.ts';
import type { SigningKeyRepository, StoredSigningKey } from './signing-key-repository.ts';
import { encodeHeader, type TokenKeys, type TokenSigner } from './token-keys.ts';

export interface KeyRingSettings {
  alg: AsymmetricAlgorithm;
  accessTokenTtlSeconds: number;
  clockToleranceSeconds: number;
  /** GATEHOUSE_KEY_ROTATION_DAYS: the active key's age that triggers rotation; 0 = never. */
  rotationDays: number;
}

export interface KeyRingDeps {
  repository: SigningKeyRepository;
  clock: Clock;
  /** Seals new private keys and opens sealed ones; undefined = stored unencrypted (development). */
  encryption: KeyEncryption | undefined;
}

/** A token naming a kid this process does not know re-reads the store at most this often. */
export const UNKNOWN_KID_RELOAD_SECONDS = 5;
/**
 * Signing re-reads the keys when they are older than this, so every instance signs with a key
 * rotated elsewhere within this time, and never signs with a retired key for longer.
 */
export const SIGNER_REFRESH_SECONDS = 60;
// Our kids are RFC 7638 thumbprints (43 base64url characters). Anything else is never one of
// ours, so it causes no store read at all (a flood of junk kids costs nothing).
const PLAUSIBLE_KID = /^[A-Za-z0-9_-]{43}$/;
// Keys past their JWKS window stay listed (as expired) this long before housekeeping deletes them.
const KEEP_EXPIRED_SECONDS = 86_400;

interface LoadedKey {
  readonly stored: StoredSigningKey;
  readonly verify: webcrypto.CryptoKey;
  readonly jwk: JWK;
}

export type KeyState = 'active' | 'retired' | 'expired';

/** A key as `gatehouse keys list` shows it: never private material. */
export interface SigningKeyInfo {
  kid: string;
  alg: AsymmetricAlgorithm;
  state: KeyState;
  createdAt: Date;
  activatedAt: Date;
  retiredAt: Date | null;
}

/**
 * The asymmetric signing keys of API.md 7, read from the store that every instance shares.
 * Keys are imported once (a KeyObject to sign, a CryptoKey for jose to verify), never per
 * request. The store is re-read (a) when a token names a kid not loaded yet, at most once per
 * UNKNOWN_KID_RELOAD_SECONDS, (b) before signing when the set is older than
 * SIGNER_REFRESH_SECONDS; concurrent callers share one read in flight.
 */
export class KeyRing implements TokenKeys {
  readonly #deps: KeyRingDeps;
  readonly #settings: KeyRingSettings;
  #keys = new Map<string, LoadedKey>();
  #active: { kid: string; activatedAt: Date; signer: TokenSigner } | undefined;
  #loadedAtMs = -Infinity;
  #loading: Promise<void> | undefined;

  private constructor(deps: KeyRingDeps, settings: KeyRingSettings) {
    this.#deps = deps;
    this.#settings = settings;
  }

  /**
   * Loads the keys, first creating the active one when the store has none. Throws
   * SigningKeyUnavailableError when the active key cannot be opened (a wrong or missing
   * GATEHOUSE_KEY_ENCRYPTION_KEY): start-up must stop, never make a new key silently.
   */
  static async open(deps: KeyRingDeps, settings: KeyRingSettings): Promise<KeyRing> {
    const ring = new KeyRing(deps, settings);
    await ring.#reload();
    return ring;
  }

  get algorithm(): AsymmetricAlgorithm {
    return this.#settings.alg;
  }

  /**
   * How long a retired key stays published: a token it signed lives at most the access token
   * TTL plus the clock tolerance, and an instance may sign with it for up to
   * SIGNER_REFRESH_SECONDS after its retirement before it re-reads the keys.
   */
  get publishedAfterRetirementSeconds(): number {
    return (
      this.#settings.accessTokenTtlSeconds +
      this.#settings.clockToleranceSeconds +
      SIGNER_REFRESH_SECONDS
    );
  }

  async signer(): Promise<TokenSigner> {
    await this.#reloadIfOlderThan(SIGNER_REFRESH_SECONDS);
    return this.#active!.signer;
  }

  async verificationKey(kid: string | undefined): Promise<webcrypto.CryptoKey | undefined> {
    if (kid === undefined) return undefined;
    const known = this.#keys.get(kid);
    if (known) return known.verify;
    if (!PLAUSIBLE_KID.test(kid)) return undefined;
    try {
      await this.#reloadIfOlderThan(UNKNOWN_KID_RELOAD_SECONDS);
    } catch {
      // A store that can't be read leaves the token unverifiable; the next read is bounded too.
      return undefined;
    }
    return this.#keys.get(kid)?.verify;
  }

  /** The public JWKs that may have signed a live token (API.md 7), at most a few seconds stale. */
  async publicJwks(): Promise<JWK[]> {
    await this.#reloadIfOlderThan(UNKNOWN_KID_RELOAD_SECONDS);
    const now = this.#deps.clock.now().getTime();
    return [...this.#keys.values()]
      .filter(({ stored }) => this.#stateOf(stored, now) !== 'expired')
      .map(({ jwk }) => jwk);
  }

  /** Every stored key of every algorithm, with its state; no private material. */
  async list(): Promise<SigningKeyInfo[]> {
    const now = this.#deps.clock.now().getTime();
    return (await this.#deps.repository.listAll()).map((stored) => ({
      kid: stored.kid,
      alg: stored.alg,
      state: this.#stateOf(stored, now),
      createdAt: stored.createdAt,
      activatedAt: stored.activatedAt,
      retiredAt: stored.retiredAt,
    }));
  }

  /**
   * Makes a new key the active one on every instance; returns its kid. Of concurrent rotations
   * (two operators, or automatic rotation on several instances) one wins; the others get the
   * winner's kid (SigningKeyRepository.rotate).
   */
  async rotate(): Promise<{ kid: string; rotated: boolean }> {
    await this.#reloadIfOlderThan(0);
    const rotated = await this.#rotateFrom(this.#active!.kid);
    return { kid: this.#active!.kid, rotated };
  }

  /** Rotates when the active key is older than GATEHOUSE_KEY_ROTATION_DAYS (once across instances). */
  async rotateIfDue(): Promise<string | undefined> {
    if (this.#settings.rotationDays <= 0) return undefined;
    await this.#reloadIfOlderThan(0);
    const active = this.#active!;
    const ageMs = this.#deps.clock.now().getTime() - active.activatedAt.getTime();
    if (ageMs < this.#settings.rotationDays * 86_400_000) return undefined;
    return (await this.#rotateFrom(active.kid)) ? this.#active!.kid : undefined;
  }

  /** Deletes keys a day past their JWKS window (housekeeping); returns how many. */
  async deleteExpired(): Promise<number> {
    const cutoff =
      this.#deps.clock.now().getTime() -
      (this.publishedAfterRetirementSeconds + KEEP_EXPIRED_SECONDS) * 1000;
    return this.#deps.repository.deleteRetiredBefore(new Date(cutoff));
  }

  async #rotateFrom(expectedKid: string): Promise<boolean> {
    const candidate = await newSigningKey(
      this.#settings.alg,
      this.#deps.clock.now(),
      this.#deps.encryption,
    );
    const rotated = await this.#deps.repository.rotate(expectedKid, candidate);
    await this.#reloadIfOlderThan(0);
    return rotated;
  }

  #stateOf(stored: StoredSigningKey, nowMs: number): KeyState {
    if (stored.retiredAt === null) return 'active';
    const end = stored.retiredAt.getTime() + this.publishedAfterRetirementSeconds * 1000;
    return nowMs < end ? 'retired' : 'expired';
  }

  /** Re-reads the store unless it was read (or tried) within `seconds`; shares a read in flight. */
  #reloadIfOlderThan(seconds: number): Promise<void> {
    if (this.#loading) return this.#loading;
    if (this.#deps.clock.now().getTime() - this.#loadedAtMs < seconds * 1000) {
      return Promise.resolve();
    }
    this.#loading = this.#reload().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #reload(): Promise<void> {
    const { repository, clock } = this.#deps;
    const now = clock.now();
    // Counted from the attempt, so a failing store is not hammered either.
    this.#loadedAtMs = now.getTime();
    const window = new Date(now.getTime() - this.publishedAfterRetirementSeconds * 1000);
    let stored = await repository.listUsable(this.#settings.alg, window);
    if (!stored.some((key) => key.retiredAt === null)) {
      const candidate = await newSigningKey(this.#settings.alg, now, this.#deps.encryption);
      await repository.insertIfNoneActive(candidate);
      stored = await repository.listUsable(this.#settings.alg, window);
    }
    const keys = new Map<string, LoadedKey>();
    for (const key of stored) {
      const previous = this.#keys.get(key.kid);
      keys.set(key.kid, {
        stored: key,
        verify: previous?.verify ?? (await verificationKeyOf(key)),
        jwk: previous?.jwk ?? (JSON.parse(key.publicJwk) as JWK),
      });
    }
    const active = stored.find((key) => key.retiredAt === null);
    if (!active) throw new Error('no active signing key after creating one');
    if (this.#active?.kid !== active.kid) {
      const privateKey = privateKeyOf(active, this.#deps.encryption);
      const { alg, kid } = active;
      this.#active = {
        kid,
        activatedAt: active.activatedAt,
        signer: {
          kid,
          encodedHeader: encodeHeader(alg, kid),
          sign: (input) => signWith(alg, privateKey, input),
        },
      };
    }
    this.#keys = keys;
  }
}
