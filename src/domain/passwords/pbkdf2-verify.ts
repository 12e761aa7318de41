import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/**
 * PBKDF2-HMAC-SHA256 of `password` compared in constant time with the stored key (CWE-208).
 * node:crypto runs it on libuv's thread pool, off the event loop; the caller bounds the
 * iterations (hash-formats.ts) and the concurrency (WorkLimiter).
 */
export async function verifyPbkdf2Sha256(
  password: string,
  salt: Buffer,
  iterations: number,
  derivedKey: Buffer,
): Promise<boolean> {
  const computed = await pbkdf2Async(password, salt, iterations, derivedKey.length, 'sha256');
  return timingSafeEqual(computed, derivedKey);
}
