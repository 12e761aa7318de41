export interface PasswordCheck {
  valid: boolean;
  /** True when the hash is valid but was made by an older scheme or other parameters. */
  needsRehash: boolean;
}

/** Port for password hashing. Implementations never block the event loop. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * A failed check answers no sooner than the slowest kind of stored hash takes to verify, so
   * timing tells neither which emails exist nor which accounts hold an old (e.g. bcrypt) hash
   * (CWE-208, API.md 4).
   */
  verify(storedHash: string, password: string): Promise<PasswordCheck>;
  /**
   * Does the same work as `verify` against a real hash of the current parameters, and
   * always fails. Used for unknown users so that timing does not reveal which emails
   * exist (OWASP ASVS 2.2 / 3.x, API.md 4).
   */
  verifyDummy(password: string): Promise<void>;
}
