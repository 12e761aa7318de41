import type { Argon2Parameters } from '../domain/passwords/argon2-parameters.ts';
import type { SigningAlgorithm } from '../domain/tokens/signing-algorithm.ts';
import type { LoginThrottlePolicy } from '../domain/throttle/login-throttle.ts';
import type { MailConfig } from './mail-config.ts';
import type { Secret } from './secret.ts';

export type Environment = 'development' | 'production';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Where Gatehouse listens and how it answers HTTP. */
export interface HttpConfig {
  readonly host: string;
  readonly port: number;
  /**
   * GATEHOUSE_PUBLIC_URL: the URL browsers use (`https://auth.example.com`), no trailing slash;
   * undefined = each request's own origin. Its origin is the one cookie refreshes must come from.
   * Absolute URLs are built on publicBaseUrl (public-base-url.ts), never on this alone.
   */
  readonly publicUrl: string | undefined;
  readonly bodyLimit: number;
  /** Fastify's trustProxy: false, true, or the proxies' addresses / CIDRs / keywords. */
  readonly trustProxy: boolean | string;
  /** Browser origins allowed to call the API cross-origin (CORS); empty = CORS off. */
  readonly corsOrigins: readonly string[];
}

/** The database and the optional Redis. */
export interface StorageConfig {
  readonly databaseUrl: string;
  readonly poolSize: number;
  /** SQLite's `synchronous` pragma: `full` makes every commit survive a power loss. */
  readonly sqliteSynchronous: 'full' | 'normal';
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key, so deployments (or test runs) can share one Redis. */
  readonly redisKeyPrefix: string;
}

/** Access and refresh tokens, and the keys that sign them (API.md 7). */
export interface TokenConfig {
  /** GATEHOUSE_JWT_SECRET: the HS256 shared secret. */
  readonly secret: Secret | undefined;
  /** GATEHOUSE_JWT_ALG (API.md 7): HS256 when GATEHOUSE_JWT_SECRET is set, else EdDSA. */
  readonly algorithm: SigningAlgorithm;
  /** GATEHOUSE_KEY_ENCRYPTION_KEY: 32 bytes (hex) sealing private keys at rest (AES-256-GCM). */
  readonly keyEncryptionKey: Secret | undefined;
  /**
   * GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: while the key is being changed, the old one, which
   * still opens what it sealed (never seals anything new); `gatehouse reseal` moves it all over.
   */
  readonly keyEncryptionKeyPrevious: Secret | undefined;
  /** GATEHOUSE_KEY_ROTATION_DAYS: the active signing key's age that rotates it; 0 = never. */
  readonly keyRotationDays: number;
  /** `iss` of every token: GATEHOUSE_JWT_ISSUER, else the public base URL (API.md 7). */
  readonly issuer: string;
  readonly audience: string;
  readonly clockToleranceSeconds: number;
  /** Seconds an access token lives. */
  readonly accessTtl: number;
  /** Seconds a refresh token lives. */
  readonly refreshTtl: number;
  readonly refreshReuseGrace: number;
}

/** Password policy and hashing. */
export interface PasswordConfig {
  readonly minLength: number;
  readonly argon2: Readonly<Argon2Parameters>;
  readonly hashConcurrency: number;
  readonly hashQueueLimit: number;
}

/** Requests per minute per client IP (0 = off). */
export interface RateLimitConfig {
  /** POST /token password (and other non-refresh) grants. */
  readonly token: number;
  /** POST /users/. */
  readonly register: number;
  /**
   * POST /token refresh grants: a budget of their own, so page loads (each one a cookie
   * refresh) never spend the password-guessing limit.
   */
  readonly refresh: number;
}

/** API.md 8: verification, password reset and email change by mail. */
export interface MailFlowsConfig {
  /** GATEHOUSE_REQUIRE_VERIFIED_EMAIL: the password grant refuses unverified users (403). */
  readonly requireVerifiedEmail: boolean;
  /** Seconds a password-reset link lives. */
  readonly resetTokenTtl: number;
  /** Seconds a verification or email-change link lives. */
  readonly verifyTokenTtl: number;
  /** POST /password-reset per client IP per minute, and per address per hour (0 = off). */
  readonly resetRateLimitIp: number;
  readonly resetRateLimitAddress: number;
}

/** GET /metrics (Prometheus text) on the public port. */
export interface MetricsConfig {
  /** Off by default in production. */
  readonly enabled: boolean;
  /** When set, GET /metrics answers only `Authorization: Bearer <this>`. */
  readonly token: Secret | undefined;
}

/**
 * Every setting of Gatehouse (API.md 6), validated and frozen, in sections; each default is
 * written once, where its section's reader (http-config.ts, token-config.ts, ...) reads its
 * variable. Only config/ reads process.env.
 */
export interface Config {
  readonly env: Environment;
  readonly logLevel: LogLevel;
  /** Processes serving on one machine (node:cluster); 1 = no cluster. */
  readonly workers: number;
  readonly http: HttpConfig;
  readonly storage: StorageConfig;
  readonly tokens: TokenConfig;
  readonly passwords: PasswordConfig;
  readonly rateLimits: RateLimitConfig;
  /** Per-account login throttling (ASVS 2.2.1), in seconds. */
  readonly loginThrottle: Readonly<LoginThrottlePolicy>;
  readonly mailFlows: MailFlowsConfig;
  /** Mail delivery (API.md 8): SMTP, sender, how long to keep trying. */
  readonly mail: MailConfig;
  readonly metrics: MetricsConfig;
  readonly bootstrapAdmin: { readonly email: string; readonly password: Secret } | undefined;
}
