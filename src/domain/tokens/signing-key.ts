import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

/** Storage port for small server-wide settings, such as the development signing secret. */
export interface SettingsRepository {
  /**
   * Returns the stored value of `key`; if there is none, stores `candidate` and returns it.
   * Atomic: of concurrent callers (several instances starting at once) all get one value.
   */
  getOrInsert(key: string, candidate: string): Promise<string>;
}

const DEV_SECRET_SETTING = 'jwt_signing_secret';

/**
 * The HS256 key. A configured secret wins; otherwise (development only; config refuses to
 * start production without one) a random 256-bit secret is made once and kept in the store,
 * so tokens survive a restart. RFC 7518 3.2: an HS256 key has at least 256 bits.
 */
export async function resolveSigningKey(
  configuredSecret: string | undefined,
  settings: SettingsRepository,
): Promise<KeyObject> {
  const secret =
    configuredSecret ??
    (await settings.getOrInsert(DEV_SECRET_SETTING, randomBytes(32).toString('base64url')));
  return createSecretKey(Buffer.from(secret, 'utf8'));
}
