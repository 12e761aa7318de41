import { availableParallelism } from 'node:os';
import { OWASP_ARGON2_PARAMETERS } from '../domain/passwords/argon2-parameters.ts';
import type { PasswordConfig } from './config.ts';
import type { EnvReader } from './env-reader.ts';

/** Reads the password policy and the argon2id cost and hashing queue. */
export function readPasswordConfig(read: EnvReader): PasswordConfig {
  return {
    minLength: read.integer('GATEHOUSE_PASSWORD_MIN_LENGTH', 8, 8, 128),
    argon2: {
      // OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1 (one source: the
      // domain's constant, which its tests use too).
      memoryCost: read.integer(
        'GATEHOUSE_ARGON2_MEMORY_KIB',
        OWASP_ARGON2_PARAMETERS.memoryCost,
        1024,
        1_048_576,
      ),
      timeCost: read.integer(
        'GATEHOUSE_ARGON2_ITERATIONS',
        OWASP_ARGON2_PARAMETERS.timeCost,
        1,
        20,
      ),
      parallelism: read.integer(
        'GATEHOUSE_ARGON2_PARALLELISM',
        OWASP_ARGON2_PARAMETERS.parallelism,
        1,
        16,
      ),
    },
    hashConcurrency: read.integer('GATEHOUSE_HASH_CONCURRENCY', availableParallelism(), 1, 256),
    hashQueueLimit: read.integer('GATEHOUSE_HASH_QUEUE_LIMIT', 256, 0, 100_000),
  };
}
