import type { webcrypto } from 'node:crypto';
import type { JWK } from 'jose';
import type { Clock } from '../clock.ts';
import {
  newSigningKey,
  privateKeyOf,
  SigningKeyUnavailableError,
  signWith,
  verificationKeyOf,
  type KeyEncryption,
} from './key-material.ts';
import type { AsymmetricAlgorithm } from './signing-algorithm.ts';
import type { SigningKeyRepository, StoredSigningKey } from './signing-key-repository.ts';
import { FreshRead } from './fresh-read.ts';
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
 * A token naming a kid this process has loaded re-reads the key set first when it was read
 * longer ago than this (KeyRing.verificationKey), so a withdrawn key stops verifying on every
 * instance within this bound (RFC 8725 3.1: a compromised key must stop being trusted). It
 * costs one indexed read of a few rows per instance per this interval, shared by concurrent
 * verifications.
 */
export const KEY_SET_MAX_AGE_SECONDS = 5;
/**
 * A signature follows the check that found its key active (KeyRing.signer) by at most this
 * long, so a key signs for at most this long after its retirement, and a retired key stays
 * published this much longer than a token can live. It covers the moments between the check's
 * read and the signature (milliseconds), the time between a rotation taking its timestamp and
 * committing, and the fallback when a check fails (the cached key signs only if a check
 * confirmed it within this time).
 */
export const SIGNING_CHECK_MARGIN_SECONDS = 5;
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

/** The public half, imported once; undefined when the stored JWK is malformed or not `alg`'s. */
async function loadPublic(stored: StoredSigningKey): Promise<LoadedKey | undefined> {
  try {
    const jwk = JSON.parse(stored.publicJwk) as JWK;
    if (jwk.alg !== stored.alg || 'd' in jwk) return undefined;
    return { stored, verify: await verificationKeyOf(stored), jwk };
  } catch {
    return undefined;
  }
}

export type KeyState = 'active' | 'retired' | 'expired';

/** What `gatehouse keys withdraw` did: `kid` is gone from the store. */
export interface KeyWithdrawal {
  kid: string;
  /** The new active key of its algorithm when `kid` was the active one (rotated first), else undefined. */
  replacedBy: string | undefined;
}

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
 * request. Before each signature one indexed single-row read asks the store which kid is
 * active (shared by concurrent signers), so a rotation made anywhere signs the very next token
 * (API.md 7: "active at once on every instance"); the key set is re-read only when that kid
 * differs. It is also re-read when a token names a kid not loaded yet, at most once per
 * UNKNOWN_KID_RELOAD_SECONDS, and before a token naming a loaded kid is verified when the set
 * is older than KEY_SET_MAX_AGE_SECONDS (a withdrawn key); concurrent callers share one read in
 * flight, and both kinds of read count towards one bound (at most one per 5 s).
 */
export class KeyRing implements TokenKeys {
  readonly #deps: KeyRingDeps;
  readonly #settings: KeyRingSettings;
  #keys = new Map<string, LoadedKey>();
  #active: { kid: string; activatedAt: Date; signer: TokenSigner } | undefined;
  #loadedAtMs = -Infinity;
  #loading: Promise<void> | undefined;
  #storeReads = 0;
  /** When a read that started then found #active to be the store's active key. */
  #confirmedAtMs = -Infinity;
  /** The last kid a check found no longer active: the fallback never signs with it. */
  #supersededKid: string | undefined;
  /** The store's active kid, from a read no older than the signer asking (fresh-read.ts). */
  readonly #activeKid: FreshRead<string | undefined>;

  private constructor(deps: KeyRingDeps, settings: KeyRingSettings) {
    this.#deps = deps;
    this.#settings = settings;
    this.#activeKid = new FreshRead(
      () => deps.repository.activeKid(settings.alg),
      () => deps.clock.now().getTime(),
    );
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

  /** How many times this process has read the key set from the store (for /metrics). */
  get storeReads(): number {
    return this.#storeReads;
  }

  get algorithm(): AsymmetricAlgorithm {
    return this.#settings.alg;
  }

  /**
   * How long a retired key stays published: exactly as long as a token it signed can live,
   * i.e. the access token TTL plus the clock tolerance, after the last moment it may sign
   * (at most SIGNING_CHECK_MARGIN_SECONDS after its retirement, see signer()).
   */
  get publishedAfterRetirementSeconds(): number {
    return (
      this.#settings.accessTokenTtlSeconds +
      this.#settings.clockToleranceSeconds +
      SIGNING_CHECK_MARGIN_SECONDS
    );
  }

  /**
   * The active key, checked against the store first: one single-row read of the active kid
   * (SigningKeyRepository.activeKid), and a re-read of the key set only when it differs (a
   * rotation elsewhere: another instance, or `gatehouse keys rotate` in another process).
   */
  async signer(): Promise<TokenSigner> {
    let check: { value: string | undefined; startedAtMs: number };
    try {
      check = await this.#activeKid.get();
    } catch (error) {
      // The check failed (store_unavailable). Availability first: the grant has just written
      // to the store, so this is a blip, and failing it would turn the blip into a 503 for a
      // login that can safely succeed. Safe only while the cached key was confirmed active
      // within SIGNING_CHECK_MARGIN_SECONDS: even if it was retired since, the JWKS keeps it
      // until every token it signs now has expired (publishedAfterRetirementSeconds), so the
      // token verifies everywhere for its whole life (RFC 8725 3.1: the kid still names one of
      // our published keys). Past that, a token might outlive its key's publication: the
      // grant fails like any other store failure (503 + Retry-After).
      const sinceConfirmed = this.#deps.clock.now().getTime() - this.#confirmedAtMs;
      const fresh = sinceConfirmed <= SIGNING_CHECK_MARGIN_SECONDS * 1000;
      if (fresh && this.#active!.kid !== this.#supersededKid) return this.#active!.signer;
      throw error;
    }
    if (check.value === this.#active!.kid) {
      this.#confirmedAtMs = Math.max(this.#confirmedAtMs, check.startedAtMs);
      // (A check answered before this instance's own rotation may have marked it wrongly.)
      if (this.#supersededKid === check.value) this.#supersededKid = undefined;
      return this.#active!.signer;
    }
    // Another key is active now: never sign with this one, known to be retired. Read the set
    // afresh (a read in flight may predate the rotation); if that read fails, so does the grant.
    this.#supersededKid = this.#active!.kid;
    await this.#loading?.catch(() => {});
    if (this.#active!.kid !== check.value) await this.#reloadIfOlderThan(0);
    return this.#active!.signer;
  }

  async verificationKey(kid: string | undefined): Promise<webcrypto.CryptoKey | undefined> {
    if (kid === undefined) return undefined;
    const known = this.#keys.get(kid);
    if (known) return this.#stillTrusted(kid, known);
    if (!PLAUSIBLE_KID.test(kid)) return undefined;
    try {
      await this.#reloadIfOlderThan(UNKNOWN_KID_RELOAD_SECONDS);
    } catch {
      // A store that can't be read leaves the token unverifiable; the next read is bounded too.
      return undefined;
    }
    return this.#keys.get(kid)?.verify;
  }

  /**
   * True while `kid` is loaded and the key set was read (or tried) within
   * KEY_SET_MAX_AGE_SECONDS: a token that verified under it earlier may be accepted again
   * without verificationKey. Past that, AccessTokens asks verificationKey, which re-reads.
   */
  trusts(kid: string | undefined, now: Date): boolean {
    return kid !== undefined && this.#keys.has(kid) && this.#keySetFresh(now.getTime());
  }

  /**
   * The public JWKs that may have signed a live token (API.md 7), from a key set at most
   * KEY_SET_MAX_AGE_SECONDS old: a new key appears, and a withdrawn one leaves, within that.
   */
  async publicJwks(): Promise<JWK[]> {
    await this.#reloadIfOlderThan(KEY_SET_MAX_AGE_SECONDS);
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

  /**
   * Takes `kid` out of service at once, after a compromise (RFC 8725 3.1, RFC 7517): the active
   * key of its algorithm is first replaced by a new one (the conditional rotation of rotate()),
   * then the retired key is deleted. Every instance then refuses its tokens (verificationKey)
   * and leaves it out of the JWKS (publicJwks) within KEY_SET_MAX_AGE_SECONDS. Undefined when
   * the store has no key `kid`.
   *
   * Deleted rather than marked withdrawn: a withdrawn key has no further use, its private half
   * is the one thing it still holds, and a row that no query reads cannot be published or trusted
   * again by a query that forgets a `withdrawn` filter. `gatehouse keys list` no longer shows it;
   * the command's output is the record.
   */
  async withdraw(kid: string): Promise<KeyWithdrawal | undefined> {
    const { repository } = this.#deps;
    const key = (await repository.listAll()).find((stored) => stored.kid === kid);
    if (!key) return undefined;
    // Never delete the active key: the store would have none to sign with. Rotation from it is
    // conditional, so when another withdrawal or rotation got there first this one changes
    // nothing, and the key is retired either way.
    if (key.retiredAt === null) await this.#rotateFrom(kid, key.alg);
    // False when a concurrent withdrawal (or housekeeping) deleted it first: gone either way.
    await repository.deleteRetired(kid);
    // This process stops trusting it at once (a read in flight may predate the delete).
    await this.#loading?.catch(() => {});
    await this.#reloadIfOlderThan(0);
    const replacedBy = key.retiredAt === null ? await repository.activeKid(key.alg) : undefined;
    return { kid, replacedBy };
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

  async #rotateFrom(
    expectedKid: string,
    alg: AsymmetricAlgorithm = this.#settings.alg,
  ): Promise<boolean> {
    const generated = await newSigningKey(alg, this.#deps.clock.now(), this.#deps.encryption);
    // Stamped after generating (an RSA key may take a second): the old key's retirement time,
    // from which its JWKS window counts, then precedes the commit only by the write itself.
    const candidate = { ...generated, activatedAt: this.#deps.clock.now() };
    const rotated = await this.#deps.repository.rotate(expectedKid, candidate);
    // A read already in flight may predate the rotation: let it end, then read afresh.
    await this.#loading?.catch(() => {});
    await this.#reloadIfOlderThan(0);
    return rotated;
  }

  #keySetFresh(nowMs: number): boolean {
    return nowMs - this.#loadedAtMs < KEY_SET_MAX_AGE_SECONDS * 1000;
  }

  /**
   * A loaded key, re-checked against the store when the key set is older than
   * KEY_SET_MAX_AGE_SECONDS: a key withdrawn elsewhere is retired already (the active key is
   * rotated away first), so the active-kid check of signer() never notices it; only this read
   * does. Awaited, not refreshed in the background: a background refresh would let the first
   * token after an idle spell verify against a set of any age, so no bound would hold.
   */
  async #stillTrusted(kid: string, known: LoadedKey): Promise<webcrypto.CryptoKey | undefined> {
    if (this.#keySetFresh(this.#deps.clock.now().getTime())) return known.verify;
    try {
      await this.#reloadIfOlderThan(KEY_SET_MAX_AGE_SECONDS);
    } catch {
      // The store can't be read: keep verifying with the keys we hold (availability). A 401
      // would tell the client its token is bad and make it drop a valid one; the request reads
      // its session from the same store next, which answers 503 if the store is really down.
      // The failed attempt counts as a read, so the next one waits out the bound too.
      return known.verify;
    }
    return this.#keys.get(kid)?.verify;
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
    this.#storeReads += 1;
    const window = new Date(now.getTime() - this.publishedAfterRetirementSeconds * 1000);
    let stored = await repository.listUsable(this.#settings.alg, window);
    if (!stored.some((key) => key.retiredAt === null)) {
      const candidate = await newSigningKey(this.#settings.alg, now, this.#deps.encryption);
      await repository.insertIfNoneActive(candidate);
      stored = await repository.listUsable(this.#settings.alg, window);
    }
    const active = stored.find((key) => key.retiredAt === null);
    if (!active) throw new Error('no active signing key after creating one');
    const keys = new Map<string, LoadedKey>();
    for (const key of stored) {
      const loaded = this.#keys.get(key.kid) ?? (await loadPublic(key));
      if (loaded) keys.set(key.kid, { ...loaded, stored: key });
      else if (key === active) {
        throw new SigningKeyUnavailableError(
          `signing key ${key.kid}: its stored public key is not a valid ${key.alg} JWK`,
        );
      }
      // A retired key whose stored JWK is malformed verifies nothing and is not published.
    }
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
    // The read started at `now` and found `active` active.
    this.#confirmedAtMs = Math.max(this.#confirmedAtMs, now.getTime());
  }
}
