import type { Config } from './config/config.ts';
import { registerUser, type RegisterUserInput } from './domain/accounts/register-user.ts';
import type { User } from './domain/accounts/user.ts';
import { systemClock, type Clock } from './domain/clock.ts';
import { Argon2PasswordHasher } from './domain/passwords/argon2-password-hasher.ts';
import type { PasswordHasher } from './domain/passwords/password-hasher.ts';
import { MAX_PASSWORD_LENGTH, type PasswordPolicy } from './domain/passwords/password-policy.ts';
import { WorkLimiter } from './domain/passwords/work-limiter.ts';
import { authenticate, type Principal } from './domain/sessions/authenticate.ts';
import { changePassword } from './domain/passwords/change-password.ts';
import {
  endAllSessions,
  endSession,
  listSessions,
  purgeEndedSessions,
} from './domain/sessions/end-sessions.ts';
import type { TokenGrant } from './domain/sessions/issue-tokens.ts';
import { passwordGrant } from './domain/sessions/password-grant.ts';
import { rotateRefreshToken } from './domain/sessions/rotate-refresh-token.ts';
import type { ClientInfo, Session } from './domain/sessions/session.ts';
import { AccessTokens } from './domain/tokens/access-tokens.ts';
import { resolveSigningKey } from './domain/tokens/signing-key.ts';
import type { Storage } from './storage/open-storage.ts';

/** The use cases of Gatehouse, wired to concrete parts. The server and the CLI both use this. */
export interface Services {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly hasher: PasswordHasher;
  readonly hashLimiter: WorkLimiter;
  readonly tokens: AccessTokens;
  readonly passwordPolicy: PasswordPolicy;
  registerUser(input: RegisterUserInput): Promise<User>;
  passwordGrant(input: {
    username: string;
    password: string;
    client: ClientInfo;
  }): Promise<TokenGrant>;
  authenticate(accessToken: string): Promise<Principal>;
  rotateRefreshToken(refreshToken: string): Promise<TokenGrant>;
  listSessions(userId: number): Promise<Session[]>;
  endSession(userId: number, sessionId: string): Promise<void>;
  endAllSessions(userId: number, exceptSessionId?: string): Promise<number>;
  changePassword(input: {
    userId: number;
    sessionId: string;
    currentPassword: string;
    newPassword: string;
  }): Promise<void>;
  purgeEndedSessions(): Promise<number>;
}

export interface ServiceOverrides {
  clock?: Clock;
}

/** The one place that wires concrete parts together. */
export async function createServices(
  config: Config,
  storage: Storage,
  overrides: ServiceOverrides = {},
): Promise<Services> {
  const clock = overrides.clock ?? systemClock;
  const hashLimiter = new WorkLimiter({
    concurrency: config.hashConcurrency,
    maxQueued: config.hashQueueLimit,
  });
  const hasher = new Argon2PasswordHasher(config.argon2, hashLimiter);
  const key = await resolveSigningKey(config.jwtSecret?.reveal(), storage.settings);
  const tokens = new AccessTokens(
    key,
    {
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      ttlSeconds: config.accessTokenTtl,
      clockToleranceSeconds: config.clockToleranceSeconds,
    },
    clock,
  );
  const passwordPolicy: PasswordPolicy = {
    minLength: config.passwordMinLength,
    maxLength: MAX_PASSWORD_LENGTH,
  };
  const { users, sessions } = storage;

  return {
    storage,
    clock,
    hasher,
    hashLimiter,
    tokens,
    passwordPolicy,
    registerUser: (input) => registerUser({ users, hasher, clock, policy: passwordPolicy }, input),
    passwordGrant: (input) =>
      passwordGrant(
        { users, sessions, hasher, tokens, clock, sessionTtlSeconds: config.refreshTokenTtl },
        input,
      ),
    authenticate: (accessToken) => authenticate({ tokens, sessions, clock }, accessToken),
    rotateRefreshToken: (refreshToken) =>
      rotateRefreshToken(
        {
          sessions,
          tokens,
          clock,
          sessionTtlSeconds: config.refreshTokenTtl,
          reuseGraceSeconds: config.refreshReuseGrace,
        },
        refreshToken,
      ),
    listSessions: (userId) => listSessions({ sessions, clock }, userId),
    endSession: (userId, sessionId) => endSession({ sessions, clock }, userId, sessionId),
    endAllSessions: (userId, except) => endAllSessions({ sessions, clock }, userId, except),
    changePassword: (input) =>
      changePassword({ users, sessions, hasher, clock, policy: passwordPolicy }, input),
    purgeEndedSessions: () => purgeEndedSessions({ sessions, clock }),
  };
}
