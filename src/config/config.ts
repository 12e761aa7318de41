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
  readonly redisUrl: string | undefined;
  readonly jwtSecret: Secret | undefined;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly clockToleranceSeconds: number;
  readonly accessTokenTtl: number;
  readonly refreshTokenTtl: number;
  readonly refreshReuseGrace: number;
  readonly rateLimitToken: number;
  readonly rateLimitRegister: number;
  readonly passwordMinLength: number;
  readonly argon2: {
    readonly memoryCost: number;
    readonly timeCost: number;
    readonly parallelism: number;
  };
  readonly hashConcurrency: number;
  readonly hashQueueLimit: number;
  readonly bodyLimit: number;
  readonly trustProxy: boolean | string;
  readonly logLevel: LogLevel;
  /** Serve GET /metrics (Prometheus text) on the public port. */
  readonly metricsEnabled: boolean;
  /** Processes serving on one machine (node:cluster); 1 = no cluster. */
  readonly workers: number;
  readonly bootstrapAdmin: { readonly email: string; readonly password: Secret } | undefined;
}
