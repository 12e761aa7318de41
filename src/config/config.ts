import type { Argon2Parameters } from '../domain/passwords/argon2-parameters.ts';
import type { SigningAlgorithm } from '../domain/tokens/signing-algorithm.ts';
import type { LoginThrottlePolicy } from '../domain/throttle/login-throttle.ts';
import type { MailConfig } from './mail-config.ts';
import type { Secret } from './secret.ts';

export type Environment = 'development' | 'production';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Every setting of Gatehouse (API.md 6), validated and frozen. Only config/ reads process.env. */
export interface Config {
  readonly env: Environment;
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly databasePoolSize: number;
  /** SQLite's `synchronous` pragma: `full` makes every commit survive a power loss. */
  readonly sqliteSynchronous: 'full' | 'normal';
  readonly redisUrl: string | undefined;
  readonly jwtSecret: Secret | undefined;
  /** GATEHOUSE_JWT_ALG (API.md 7): HS256 when GATEHOUSE_JWT_SECRET is set, else EdDSA. */
  readonly jwtAlgorithm: SigningAlgorithm;
  /** GATEHOUSE_KEY_ENCRYPTION_KEY: 32 bytes (hex) sealing private keys at rest (AES-256-GCM). */
  readonly keyEncryptionKey: Secret | undefined;
  /** GATEHOUSE_KEY_ROTATION_DAYS: the active signing key's age that rotates it; 0 = never. */
  readonly keyRotationDays: number;
  /** `iss` of every token: GATEHOUSE_JWT_ISSUER, else the public URL (API.md 7). */
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly clockToleranceSeconds: number;
  readonly accessTokenTtl: number;
  readonly refreshTokenTtl: number;
  readonly refreshReuseGrace: number;
  readonly rateLimitToken: number;
  readonly rateLimitRegister: number;
  /**
   * POST /token refresh grants per minute per client IP (0 = off): a budget of their own, so
   * page loads (each one a cookie refresh) never spend the password-guessing limit.
   */
  readonly rateLimitRefresh: number;
  readonly passwordMinLength: number;
  readonly argon2: Readonly<Argon2Parameters>;
  readonly hashConcurrency: number;
  readonly hashQueueLimit: number;
  readonly bodyLimit: number;
  /** Fastify's trustProxy: false, true, or the proxies' addresses / CIDRs / keywords. */
  readonly trustProxy: boolean | string;
  /**
   * GATEHOUSE_PUBLIC_URL: the URL browsers use (`https://auth.example.com`), no trailing slash;
   * undefined = each request's own origin. Its origin is the one cookie refreshes must come from.
   */
  readonly publicUrl: string | undefined;
  readonly logLevel: LogLevel;
  /** Serve GET /metrics (Prometheus text) on the public port; off by default in production. */
  readonly metricsEnabled: boolean;
  /** When set, GET /metrics answers only `Authorization: Bearer <this>`. */
  readonly metricsToken: Secret | undefined;
  /** Processes serving on one machine (node:cluster); 1 = no cluster. */
  readonly workers: number;
  /** Browser origins allowed to call the API cross-origin (CORS); empty = CORS off. */
  readonly corsOrigins: readonly string[];
  /** Prefix of every Redis key, so deployments (or test runs) can share one Redis. */
  readonly redisKeyPrefix: string;
  /** Per-account login throttling (ASVS 2.2.1), in seconds. */
  readonly loginThrottle: Readonly<LoginThrottlePolicy>;
  /** API.md 8: verification, password reset and email change by mail. */
  readonly mailFlows: {
    /** GATEHOUSE_REQUIRE_VERIFIED_EMAIL: the password grant refuses unverified users (403). */
    readonly requireVerifiedEmail: boolean;
    /** Seconds a password-reset link lives. */
    readonly resetTokenTtl: number;
    /** Seconds a verification or email-change link lives. */
    readonly verifyTokenTtl: number;
    /** POST /password-reset per client IP per minute, and per address per hour (0 = off). */
    readonly resetRateLimitIp: number;
    readonly resetRateLimitAddress: number;
  };
  readonly bootstrapAdmin: { readonly email: string; readonly password: Secret } | undefined;
  /** Mail delivery (API.md 8): SMTP, sender, how long to keep trying. */
  readonly mail: MailConfig;
}
