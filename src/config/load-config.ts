import { readBootstrapAdmin } from './bootstrap-admin-config.ts';
import type { Config, Environment, LogLevel } from './config.ts';
import { EnvReader, type Env } from './env-reader.ts';
import { readHttpConfig } from './http-config.ts';
import { readLoginThrottle } from './login-throttle-config.ts';
import { readMailConfig } from './mail-config.ts';
import { readMailFlowsConfig } from './mail-flows-config.ts';
import { readMetricsConfig } from './metrics-config.ts';
import { readPasswordConfig } from './password-config.ts';
import { readRateLimitConfig } from './rate-limit-config.ts';
import { readStorageConfig } from './storage-config.ts';
import { readTokenConfig } from './token-config.ts';

/** Start-up refuses a bad configuration with every problem listed at once. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

/**
 * Reads API.md 6's variables (and a few operational extras) into one frozen Config, a section
 * at a time (each section's file reads its variables and notes its problems); then throws one
 * ConfigError listing every problem, in the Config's section order.
 */
export function loadConfig(env: Env): Config {
  const read = new EnvReader(env);
  const envName = read.choice<Environment>('GATEHOUSE_ENV', 'development', [
    'development',
    'production',
  ]);
  const production = envName === 'production';
  const logLevel = read.choice('GATEHOUSE_LOG_LEVEL', 'info', LOG_LEVELS);
  const workers = read.integer('GATEHOUSE_WORKERS', 1, 1, 64);
  const http = readHttpConfig(read);
  const config: Config = {
    env: envName,
    logLevel,
    workers,
    http,
    storage: readStorageConfig(read),
    tokens: readTokenConfig(read, production, http),
    passwords: readPasswordConfig(read),
    rateLimits: readRateLimitConfig(read),
    loginThrottle: readLoginThrottle(read),
    mailFlows: readMailFlowsConfig(read),
    mail: readMailConfig(read, http.publicUrl, production),
    metrics: readMetricsConfig(read, production),
    bootstrapAdmin: readBootstrapAdmin(read),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return deepFreeze(config);
}
