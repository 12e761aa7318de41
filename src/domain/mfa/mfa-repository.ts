/** Whether a TOTP secret is stored as is (development) or sealed (API.md 7's key). */
export type SecretEncryption = 'none' | 'aes-256-gcm';

export interface StoredTotpFactor {
  userId: number;
  /** The base32 secret, or its sealed form (`secretEncryption`). */
  secret: string;
  secretEncryption: SecretEncryption;
  createdAt: Date;
  /** Null while enrolment waits for its first correct code. */
  confirmedAt: Date | null;
  /** The last accepted RFC 6238 time step; -1 before any. */
  lastUsedStep: number;
}

/** One TOTP secret `gatehouse reseal` seals anew: the row's value as read, and what replaces it. */
export interface TotpSecretChange {
  readonly userId: number;
  /** The stored `secret` the change was computed from. */
  readonly fromSecret: string;
  readonly secret: string;
  readonly secretEncryption: SecretEncryption;
}

/** A pending MFA step of a password grant, as the password grant left it. */
export interface NewMfaChallenge {
  /** SHA-256 (hex) of the `mfa_token`; the token itself is never stored. */
  tokenHash: string;
  userId: number;
  /** The scope the password grant decided (RFC 6749 3.3). */
  scope: string;
  /** What the session stores (sessionScopeFor). */
  sessionScope: string;
  /** SHA-256 (hex) of the password hash the password grant verified. */
  passwordDigest: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface LiveMfaChallenge {
  userId: number;
  scope: string;
  sessionScope: string;
  passwordDigest: string;
  /** Attempts counted so far, this one included. */
  attempts: number;
}

/**
 * Storage port of second factors (API.md 9): TOTP, recovery codes, the `mfa_token`
 * challenges of the password grant, and the rule "this user has a second factor".
 * Every "use" is one conditional UPDATE, so of concurrent callers exactly one wins, on every
 * instance. test/contract/mfa-repository.contract.ts checks each store.
 *
 * Passkeys (migration 0013, table `passkeys`) are second factors too: `hasSecondFactor`, the
 * `users.mfa_enabled` cache and `resetFactors` count and delete them. In SQL they all go
 * through `secondFactorExists` in sql-mfa-repository.ts.
 */
export interface MfaRepository {
  /**
   * True when the user has any confirmed second factor: a confirmed TOTP factor or any
   * passkey. Read from the factor tables, never from a cache:
   * this is what the password grant asks before it gives tokens.
   */
  hasSecondFactor(userId: number): Promise<boolean>;

  findTotp(userId: number): Promise<StoredTotpFactor | undefined>;

  /**
   * TOTP factors, pending and confirmed, of users with an id above `afterUserId`, by user id, at
   * most `limit` (`gatehouse reseal` pages through every one).
   */
  listTotpFactors(afterUserId: number, limit: number): Promise<StoredTotpFactor[]>;

  /**
   * Replaces TOTP secrets sealed anew (`gatehouse reseal`) in one transaction, each by one
   * compare-and-set UPDATE (`... where user_id = ? and secret = <fromSecret>`): a factor
   * replaced, disabled or resealed since it was read is left as it is. Nothing else of a row
   * changes (confirmation, last used step). Returns how many rows it replaced.
   */
  replaceTotpSecrets(changes: readonly TotpSecretChange[]): Promise<number>;

  /**
   * Stores a new pending (unconfirmed) TOTP factor, replacing a pending one. False, and
   * nothing changes, when the user already has a confirmed one (or no longer exists).
   */
  startTotp(factor: {
    userId: number;
    secret: string;
    secretEncryption: SecretEncryption;
    createdAt: Date;
  }): Promise<boolean>;

  /**
   * Confirms the pending factor with the code of time step `step` (which becomes its
   * `lastUsedStep`) and replaces the user's recovery codes with `recoveryCodeHashes`, in one
   * transaction. False when there is no pending factor (already confirmed, or none): of
   * concurrent confirmations exactly one succeeds.
   */
  confirmTotp(
    userId: number,
    step: number,
    now: Date,
    recoveryCodeHashes: readonly string[],
  ): Promise<boolean>;

  /**
   * Records the use of the confirmed factor's code of `step`: one conditional UPDATE
   * (`last_used_step < step`), so a code is accepted at most once, on every instance, and an
   * older one after a newer is refused. False when refused.
   */
  useTotpStep(userId: number, step: number): Promise<boolean>;

  /** Marks an unused recovery code used (one conditional UPDATE); false when none matched. */
  useRecoveryCode(userId: number, codeHash: string, now: Date): Promise<boolean>;

  /** Replaces every recovery code of a user with a confirmed factor; false without one. */
  replaceRecoveryCodes(userId: number, codeHashes: readonly string[], now: Date): Promise<boolean>;

  countUnusedRecoveryCodes(userId: number): Promise<number>;

  /** Deletes the TOTP factor (pending or confirmed) and the recovery codes; false when none. */
  deleteTotp(userId: number): Promise<boolean>;

  /**
   * Admin reset (DELETE /users/{id}/mfa): every second factor of the user, and its pending
   * challenges, passkeys included. True when anything was deleted.
   */
  resetFactors(userId: number): Promise<boolean>;

  createChallenge(challenge: NewMfaChallenge): Promise<void>;

  /**
   * Counts one attempt at the challenge, only while it is unused, unexpired at `now` and has
   * had fewer than `maxAttempts`: one conditional UPDATE, so concurrent guesses can't exceed
   * the bound. Undefined when refused (the token is dead).
   */
  attemptChallenge(
    tokenHash: string,
    now: Date,
    maxAttempts: number,
  ): Promise<LiveMfaChallenge | undefined>;

  /** Marks the challenge used; of concurrent callers exactly one gets true. */
  consumeChallenge(tokenHash: string, now: Date): Promise<boolean>;

  /** Deletes challenges that expired before `before`; returns how many. */
  purgeChallenges(before: Date): Promise<number>;
}
