import type { RateLimitConfig } from './config.ts';
import type { EnvReader } from './env-reader.ts';

/** Reads the per-IP request limits of GATEHOUSE_RATE_LIMIT_*. */
export function readRateLimitConfig(read: EnvReader): RateLimitConfig {
  return {
    token: read.integer('GATEHOUSE_RATE_LIMIT_TOKEN', 20, 0, 1_000_000),
    register: read.integer('GATEHOUSE_RATE_LIMIT_REGISTER', 10, 0, 1_000_000),
    refresh: read.integer('GATEHOUSE_RATE_LIMIT_REFRESH', 120, 0, 1_000_000),
  };
}
