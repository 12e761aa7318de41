import type { ChallengePurpose, NewChallenge, Passkey } from './passkey.ts';

/**
 * Storage port of WebAuthn credentials and ceremony challenges (API.md 9).
 * test/contract/passkey-repository.contract.ts checks each store.
 */
export interface PasskeyRepository {
  /** Stores a challenge. False when its user no longer exists. */
  addChallenge(challenge: NewChallenge): Promise<boolean>;

  /**
   * Marks the challenge used with one conditional UPDATE when it is unused, unexpired at `now`
   * and was issued for `purpose`: of concurrent callers exactly one gets it (WebAuthn L2 13.4.3,
   * replay). The user it was bound to (null for a passwordless one), or undefined.
   */
  consumeChallenge(
    challenge: string,
    purpose: ChallengePurpose,
    now: Date,
  ): Promise<{ userId: number | null } | undefined>;

  /**
   * Stores a new passkey: `added`, `duplicate` when the credential id is registered already (to
   * anyone: the unique index decides), or `no_user` when the user was deleted meanwhile.
   */
  add(passkey: Passkey): Promise<'added' | 'duplicate' | 'no_user'>;

  /** The user's passkeys, oldest first. */
  listForUser(userId: number): Promise<Passkey[]>;

  findByCredentialId(credentialId: string): Promise<Passkey | undefined>;

  /** Renames the user's passkey; false when the user has none with this id. */
  rename(userId: number, id: string, name: string): Promise<boolean>;

  /** Deletes the user's passkey; false when the user has none with this id (another's: false). */
  delete(userId: number, id: string): Promise<boolean>;

  /**
   * Records a verified use: the new counter, the BS flag and the time, only while the stored
   * counter is still `seenCount` (one conditional UPDATE). Of two concurrent uses of one
   * assertion-counter value, one wins; false for the other (and for a deleted passkey).
   */
  recordUse(
    id: string,
    seenCount: number,
    use: { signCount: number; backedUp: boolean; at: Date },
  ): Promise<boolean>;

  /** Deletes challenges that expired before `before`; returns how many. */
  purgeChallenges(before: Date): Promise<number>;
}
