/** argon2id's cost settings (GATEHOUSE_ARGON2_*). */
export interface Argon2Parameters {
  /** KiB. OWASP Password Storage Cheat Sheet: argon2id m=19456 KiB, t=2, p=1. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet's argon2id minimum: the defaults of the configuration. */
export const OWASP_ARGON2_PARAMETERS: Argon2Parameters = Object.freeze({
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
});
