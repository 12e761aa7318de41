import type { Config } from './config/config.ts';
import { publicBaseUrl } from './config/public-base-url.ts';
import {
  changeUserAccess,
  deleteUser,
  endUserSessions,
  findUser,
  getUser,
  listUsers,
} from './domain/accounts/admin-users.ts';
import { importUsers } from './domain/accounts/import-users.ts';
import { EventLoopLoad } from './event-loop-load.ts';
import { GatehouseError } from './domain/errors.ts';
import type { MailStatus, OutboxFilter, OutboxMessage } from './domain/mail/mail-outbox.ts';
import type { OutgoingMail } from './domain/mail/outgoing-mail.ts';
import { DEFAULT_RETRY_POLICY } from './domain/mail/retry-schedule.ts';
import { renderMailTemplate } from './mail/mail-templates.ts';
import { MailSender, type MailDelivery, type MailSenderSettings } from './mail/mail-sender.ts';
import { requestEmailChange } from './domain/email/email-change.ts';
import { MAIL_KIND_OF } from './domain/email/mail-draft.ts';
import type { MailFlowDeps } from './domain/email/mail-flow-deps.ts';
import { confirmPasswordReset, requestPasswordReset } from './domain/email/password-reset.ts';
import { confirmEmailToken, requestEmailVerification } from './domain/email/verify-email.ts';
import { FailureTimingFloor } from './domain/passwords/failure-timing-floor.ts';
import { listAuditEvents } from './domain/audit/list-audit-events.ts';
import { verifyAuditChain } from './domain/audit/verify-audit-chain.ts';
import { bootstrapAdmin } from './domain/accounts/bootstrap-admin.ts';
import { parseEmail } from './domain/email-address.ts';
import { importUser, registerUser } from './domain/accounts/register-user.ts';
import type { UserWithHash } from './domain/accounts/user.ts';
import { systemClock, type Clock } from './domain/clock.ts';
import { Argon2PasswordHasher } from './domain/passwords/argon2-password-hasher.ts';
import { MAX_PASSWORD_LENGTH, type PasswordPolicy } from './domain/passwords/password-policy.ts';
import { WorkLimiter } from './domain/passwords/work-limiter.ts';
import { authenticate } from './domain/sessions/authenticate.ts';
import { changePassword } from './domain/passwords/change-password.ts';
import {
  endAllSessions,
  endSession,
  listSessions,
  purgeEndedSessions,
} from './domain/sessions/end-sessions.ts';
import type { TokenGrant } from './domain/sessions/issue-tokens.ts';
import { LoginThrottle, resolveThrottleKeySecret } from './domain/throttle/login-throttle.ts';
import { passwordGrant } from './domain/sessions/password-grant.ts';
import { completeMfaGrant, type MfaGrantDeps } from './domain/sessions/complete-mfa-grant.ts';
import { otpCheck } from './domain/mfa/otp-check.ts';
import { TotpSecrets } from './domain/mfa/totp.ts';
import {
  confirmTotpEnrolment,
  disableTotp,
  mfaStatus,
  regenerateRecoveryCodes,
  resetUserMfa,
  startTotpEnrolment,
  type TotpEnrolmentDeps,
} from './domain/mfa/totp-enrolment.ts';
import { rotateRefreshToken } from './domain/sessions/rotate-refresh-token.ts';
import type { ClientInfo } from './domain/client-info.ts';
import { AccessTokens } from './domain/tokens/access-tokens.ts';
import {
  authenticateApiClient,
  createApiClient,
  deleteApiClient,
  listApiClients,
} from './domain/clients/api-clients.ts';
import { introspectToken } from './domain/sessions/introspect-token.ts';
import { revokeToken } from './domain/sessions/revoke-token.ts';
import { openSigningKeys, type SigningKeys } from './domain/tokens/signing-keys.ts';
import { KeyEncryption } from './domain/tokens/key-material.ts';
import { resealSecrets, type ResealOutcome } from './domain/tokens/reseal-secrets.ts';
import { ConfigError } from './config/load-config.ts';
import { openStorage, type Storage, type StorageOptions } from './storage/open-storage.ts';
import type { RelyingParty } from './domain/passkeys/ceremony.ts';
import {
  deletePasskey,
  listPasskeys,
  passkeyRegistrationOptions,
  registerPasskey,
  renamePasskey,
} from './domain/passkeys/manage-passkeys.ts';
import { passkeyAuthenticationOptions, passkeyGrant } from './domain/passkeys/passkey-grant.ts';
import { mfaPasskeyOptions, passkeyCheck } from './domain/passkeys/mfa-passkey.ts';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Redis } from 'ioredis';

// Expected failures (a store that can't be reached) in words for operators, never a password.
export { operatorMessage } from './storage/sql/store-failure.ts';

/** The use cases of Gatehouse, wired to concrete parts. The server and the CLI both use this. */
export interface Services {
  readonly clock: Clock;
  /** The signing keys (API.md 7): JWKS, rotation, `gatehouse keys`. */
  readonly signingKeys: SigningKeys;
  readonly passwordPolicy: PasswordPolicy;
  /**
   * The outbox's background sender; undefined in production without SMTP (nothing can be
   * delivered; start-up warns). serve.ts starts and stops it.
   */
  readonly mailSender: MailSender | undefined;
  // Operations (API.md 5): what probes and /metrics read.
  /** GET /readyz: whether the store (and Redis, when configured) answers, and where the store is. */
  readiness(): Promise<Readiness>;
  /** Password hashing jobs and the store's connection pool, read by /metrics. */
  loadStats(): LoadStats;
  registerUser: UseCase<typeof registerUser>;
  /** Creates a user from an argon2id or bcrypt hash made elsewhere (CLI import). */
  importUser: UseCase<typeof importUser>;
  /** Creates the configured first admin when the store has none; undefined when not needed. */
  bootstrapAdmin: UseCase<typeof bootstrapAdmin>;
  /** The password grant (RFC 6749 4.3); `scope` absent = all the role allows (RFC 6749 3.3). */
  passwordGrant: UseCase<typeof passwordGrant>;
  authenticate: UseCase<typeof authenticate>;
  rotateRefreshToken: UseCase<typeof rotateRefreshToken>;
  listSessions: UseCase<typeof listSessions>;
  endSession: UseCase<typeof endSession>;
  endAllSessions: UseCase<typeof endAllSessions>;
  changePassword: UseCase<typeof changePassword>;
  // Second factors (API.md 9).
  /** POST /token grant_type=urn:gatehouse:params:oauth:grant-type:mfa-otp. */
  mfaOtpGrant(input: { mfaToken: string; otp: string; client: ClientInfo }): Promise<TokenGrant>;
  /** The MFA step with any proof (passkeys bring their own `check`). */
  completeMfaGrant: UseCase<typeof completeMfaGrant>;
  mfaStatus: UseCase<typeof mfaStatus>;
  startTotpEnrolment: UseCase<typeof startTotpEnrolment>;
  confirmTotpEnrolment: UseCase<typeof confirmTotpEnrolment>;
  disableTotp: UseCase<typeof disableTotp>;
  regenerateRecoveryCodes: UseCase<typeof regenerateRecoveryCodes>;
  resetUserMfa: UseCase<typeof resetUserMfa>;
  // Mail flows (API.md 8).
  requestEmailVerification(userId: number, client?: ClientInfo): Promise<void>;
  /** A verification or email-change token from a link (POST /verify-email). */
  confirmEmailToken(token: string, client?: ClientInfo): Promise<void>;
  requestPasswordReset(email: string, client?: ClientInfo): Promise<void>;
  confirmPasswordReset(token: string, newPassword: string, client?: ClientInfo): Promise<void>;
  requestEmailChange: UseCase<typeof requestEmailChange>;
  // Admin API (API.md 3): callers check the permission first (http/authorize.ts).
  getUser: UseCase<typeof getUser>;
  /** A user named the way an operator types it on the command line: an id, or an email. */
  findUser: UseCase<typeof findUser>;
  listUsers: UseCase<typeof listUsers>;
  /** How many users match `emailPrefix` (GET /users/ `total`). */
  countUsers(filter: { emailPrefix?: string }): Promise<number>;
  changeUserAccess: UseCase<typeof changeUserAccess>;
  deleteUser: UseCase<typeof deleteUser>;
  /** An admin ends every session of a user; how many ended. */
  endUserSessions: UseCase<typeof endUserSessions>;
  listAuditEvents: UseCase<typeof listAuditEvents>;
  /** Walks the audit log's hash chain; the first broken entry, or the head to record. */
  verifyAuditChain: UseCase<typeof verifyAuditChain>;
  // Moving users in and out (API.md 10).
  /** `gatehouse import`: checks every row, then (unless a dry run or a bad row) imports. */
  importUsers: UseCase<typeof importUsers>;
  /** `gatehouse export`: every user, password hash included, `pageSize` rows per read. */
  exportUsers(pageSize: number): AsyncIterable<UserWithHash>;
  purgeEndedSessions(): Promise<number>;
  // RFC 7009 revocation, RFC 7662 introspection and the API clients that may introspect.
  /** Ends the session of the token, if it is one of ours; false for anything else (no error). */
  revokeToken: UseCase<typeof revokeToken>;
  introspectToken: UseCase<typeof introspectToken>;
  /** The registered client these credentials belong to, or `invalid_client`. */
  authenticateApiClient: UseCase<typeof authenticateApiClient>;
  createApiClient: UseCase<typeof createApiClient>;
  listApiClients: UseCase<typeof listApiClients>;
  deleteApiClient: UseCase<typeof deleteApiClient>;
  /**
   * API.md 8: throws `mail_unavailable` (503, detail naming GATEHOUSE_SMTP_URL) when mail can't
   * be delivered: production without SMTP. Endpoints whose point is a message call it first.
   */
  requireMailDelivery(): void;
  /**
   * Puts `mail` in the outbox on its own (a notice not tied to another change) and wakes the
   * sender. For a message that must commit with a change, storage code calls
   * `enqueueMail(trx, mail, now)` in that change's transaction, then `mailQueued()`.
   */
  sendMail(mail: OutgoingMail): Promise<number>;
  /** After a commit that enqueued mail: the sender delivers at once, not at its next poll. */
  mailQueued(): void;
  /** Deletes sent, failed and logged outbox rows past the retention (housekeeping). */
  purgeFinishedMail(): Promise<number>;
  /** The outbox, newest first (`gatehouse mail list`); bodies may hold live links. */
  listMail(filter: OutboxFilter): Promise<OutboxMessage[]>;
  getMail(id: number): Promise<OutboxMessage | undefined>;
  /** How many outbox messages are in each status (for /metrics). */
  listMailCounts(): Promise<Record<MailStatus, number>>;
  /** Queues the test message (template test-message) to `to`, for `gatehouse mail test`. */
  sendTestMail(to: string): Promise<number>;
  // Passkeys (API.md 9).
  /** The RP ID and origin passkeys are bound to (from GATEHOUSE_PUBLIC_URL). */
  readonly relyingParty: RelyingParty;
  passkeyRegistrationOptions: UseCase<typeof passkeyRegistrationOptions>;
  registerPasskey: UseCase<typeof registerPasskey>;
  listPasskeys: UseCase<typeof listPasskeys>;
  renamePasskey: UseCase<typeof renamePasskey>;
  deletePasskey: UseCase<typeof deletePasskey>;
  /** Passwordless options; with an `mfa_token`, options bound to that password grant's user. */
  passkeyAuthenticationOptions(mfaToken?: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** The MFA step with a passkey (`urn:gatehouse:params:oauth:grant-type:mfa-webauthn`). */
  mfaPasskeyGrant(input: {
    mfaToken: string;
    credential: unknown;
    client: ClientInfo;
  }): Promise<TokenGrant>;
  /** The passwordless grant (`urn:gatehouse:params:oauth:grant-type:webauthn`). */
  passkeyGrant: UseCase<typeof passkeyGrant>;
}

/** A use case as callers see it: the domain function with its dependencies already given. */
type UseCase<F> = F extends (deps: never, ...args: infer A) => infer R ? (...args: A) => R : never;

/** GET /readyz's checks: each dependency `ok`, or `down` with the driver's reason. */
export interface Readiness {
  store: Probe;
  /** Absent without GATEHOUSE_REDIS_URL. */
  redis?: Probe;
  /** Scheme, host, port and database of the store; never a password (CWE-532). */
  storeLocation: string;
}

export interface Probe {
  status: 'ok' | 'down';
  reason?: string;
}

export interface LoadStats {
  hashing: { running: number; queued: number; limit: number };
  /** Postgres only: total, idle and waiting clients. */
  pool: { total: number; idle: number; waiting: number } | undefined;
}

export interface ServiceOverrides {
  clock?: Clock;
  /** Tests: a faster poll, a short lease, a fixed jitter. */
  mailSender?: Pick<MailSenderSettings, 'pollIntervalMs' | 'batchSize' | 'leaseMs' | 'random'>;
}

/** Services on an open store, for a composition root (serve.ts, cli/main.ts), which closes it. */
export interface OpenedServices {
  readonly services: Services;
  /** GATEHOUSE_REDIS_URL's client, for buildServer's shared rate-limit counters. */
  readonly rateLimitRedis: Redis | undefined;
  /** What the store found worth a warning at open (e.g. a SQLite file others may read). */
  readonly warnings: readonly string[];
  /** Closes the store (and Redis). serve.ts stops the HTTP server and mail sender first. */
  close(): Promise<void>;
}

/** The storage settings of a config: the database, and Redis when GATEHOUSE_REDIS_URL is set. */
export function storageOptionsFor(
  config: Config,
  onRedisUnavailable: (error: Error) => void,
): StorageOptions {
  return {
    poolSize: config.storage.poolSize,
    sqliteSynchronous: config.storage.sqliteSynchronous,
    ...(config.storage.redisUrl
      ? { redis: { url: config.storage.redisUrl, onUnavailable: onRedisUnavailable } }
      : {}),
  };
}

/**
 * Opens the configured store, migrates it (so a fresh database works at once) and wires the
 * services on it. The CLI passes only a pool size: it needs no Redis.
 */
export async function openServices(
  config: Config,
  storageOptions: StorageOptions,
): Promise<OpenedServices> {
  const storage = await openStorage(config.storage.databaseUrl, storageOptions);
  try {
    await storage.migrate();
    return {
      services: await createServices(config, storage),
      rateLimitRedis: storage.redis?.client,
      warnings: storage.warnings,
      close: () => storage.close(),
    };
  } catch (error) {
    await storage.close();
    throw error;
  }
}

/** `gatehouse migrate` and the cluster primary: applies pending migrations; their names. */
export async function migrateStore(config: Config, poolSize: number): Promise<string[]> {
  const storage = await openStorage(config.storage.databaseUrl, { poolSize });
  try {
    return await storage.migrate();
  } finally {
    await storage.close();
  }
}

/**
 * GATEHOUSE_KEY_ENCRYPTION_KEY, with GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS while the key is being
 * changed; undefined without a key (development: stored unencrypted).
 */
function keyEncryptionOf(config: Config): KeyEncryption | undefined {
  const { keyEncryptionKey, keyEncryptionKeyPrevious } = config.tokens;
  if (!keyEncryptionKey) return undefined;
  return new KeyEncryption(
    Buffer.from(keyEncryptionKey.reveal(), 'hex'),
    keyEncryptionKeyPrevious && Buffer.from(keyEncryptionKeyPrevious.reveal(), 'hex'),
  );
}

/**
 * `gatehouse reseal`: every secret at rest sealed under GATEHOUSE_KEY_ENCRYPTION_KEY (the store
 * migrated first, like every command). Opens no key ring: a value under an unknown key is named
 * in the outcome, not a start-up failure. Without the key there is nothing to seal under.
 */
export async function resealStore(
  config: Config,
  poolSize: number,
  options: { dryRun: boolean },
): Promise<ResealOutcome> {
  const encryption = keyEncryptionOf(config);
  if (!encryption) {
    throw new ConfigError([
      'GATEHOUSE_KEY_ENCRYPTION_KEY: required by gatehouse reseal, which seals every secret at rest under it (32 random bytes; generate one with: openssl rand -base64 32)',
    ]);
  }
  const storage = await openStorage(config.storage.databaseUrl, { poolSize });
  try {
    await storage.migrate();
    return await resealSecrets(
      { signingKeys: storage.signingKeys, mfa: storage.mfa, encryption },
      options,
    );
  } finally {
    await storage.close();
  }
}

/** Production without SMTP can't deliver; development logs messages instead (API.md 8). */
export function mailDeliveryAvailable(config: Config): boolean {
  return config.mail.smtpUrl !== undefined || config.env === 'development';
}

// Finished outbox rows are kept this long for `gatehouse mail list` (sent ones hold no body).
const MAIL_RETENTION_MS = 30 * 86_400_000;

// Event loop utilization above which the loop counts as saturated.
const SATURATED_EVENT_LOOP = 0.9;

/** SMTP when configured; the log in development without it; nothing in production without it. */
async function createMailSender(
  config: Config,
  storage: Storage,
  clock: Clock,
  overrides: ServiceOverrides['mailSender'],
): Promise<MailSender | undefined> {
  let delivery: MailDelivery;
  if (config.mail.smtpUrl) {
    // Loaded only when used, like pg and ioredis.
    const { SmtpTransport } = await import('./mail/smtp-transport.ts');
    delivery = {
      kind: 'smtp',
      transport: new SmtpTransport({ url: config.mail.smtpUrl, from: config.mail.from }),
    };
  } else if (config.env === 'development') {
    delivery = { kind: 'log' };
  } else {
    return undefined;
  }
  return new MailSender({
    outbox: storage.mailOutbox,
    clock,
    delivery,
    messageIdDomain: config.mail.messageIdDomain,
    retry: { ...DEFAULT_RETRY_POLICY, maxAgeMs: config.mail.maxAgeSeconds * 1000 },
    ...overrides,
  });
}

/** The one place that wires concrete parts together. */
export async function createServices(
  config: Config,
  storage: Storage,
  overrides: ServiceOverrides = {},
): Promise<Services> {
  const clock = overrides.clock ?? systemClock;
  // Reads first (API.md 4): while the event loop is saturated, hashing leaves one
  // core to it, so a login flood can't take the CPU that serves authenticated requests. The
  // bench measured ELU 0.3-0.6 under logins alone and 0.97-1 when reads and a login flood
  // compete; there /users/me/ p99 went from 3.2-4.75x to 2-3x its unloaded p99 (BENCHMARKS.md).
  const loop = new EventLoopLoad();
  const hashLimiter = new WorkLimiter({
    concurrency: () =>
      loop.utilization > SATURATED_EVENT_LOOP
        ? Math.max(1, config.passwords.hashConcurrency - 1)
        : config.passwords.hashConcurrency,
    maxQueued: config.passwords.hashQueueLimit,
  });
  const hasher = new Argon2PasswordHasher(config.passwords.argon2, hashLimiter);
  // One key ring for everything sealed at rest: signing keys (API.md 7) and TOTP secrets (API.md 9).
  const keyEncryption = keyEncryptionOf(config);
  const signingKeys = await openSigningKeys(
    {
      settings: storage.settings,
      repository: storage.signingKeys,
      clock,
      encryption: keyEncryption,
    },
    {
      alg: config.tokens.algorithm,
      hmacSecret: config.tokens.secret?.reveal(),
      accessTokenTtlSeconds: config.tokens.accessTtl,
      clockToleranceSeconds: config.tokens.clockToleranceSeconds,
      rotationDays: config.tokens.keyRotationDays,
    },
  );
  const tokens = new AccessTokens(
    signingKeys.tokenKeys,
    {
      issuer: config.tokens.issuer,
      audience: config.tokens.audience,
      ttlSeconds: config.tokens.accessTtl,
      clockToleranceSeconds: config.tokens.clockToleranceSeconds,
    },
    clock,
  );
  const passwordPolicy: PasswordPolicy = {
    minLength: config.passwords.minLength,
    maxLength: MAX_PASSWORD_LENGTH,
  };
  const { users, sessions, audit, apiClients: clients } = storage;
  // Built once: every authenticated request uses it.
  const authenticateDeps = { tokens, sessions, clock };
  const throttle = new LoginThrottle(
    {
      repository: storage.loginThrottles,
      clock,
      // A secret kept outside the store: the HS256 secret, else (asymmetric signing, API.md 7)
      // the key encryption key; HKDF with the throttle's own label keeps the two independent.
      keySecret: await resolveThrottleKeySecret(
        config.tokens.secret?.reveal() ?? config.tokens.keyEncryptionKey?.reveal(),
        storage.settings,
      ),
    },
    config.loginThrottle,
  );

  // API.md 9: TOTP secrets are sealed under the key that seals signing keys (API.md 7), if set.
  const totpSecrets = new TotpSecrets(keyEncryption);
  const mfa = storage.mfa;
  const mfaGrantDeps: MfaGrantDeps = {
    users,
    sessions,
    tokens,
    clock,
    audit,
    throttle,
    mfa,
    sessionTtlSeconds: config.tokens.refreshTtl,
  };
  const enrolmentDeps: TotpEnrolmentDeps = {
    users,
    mfa,
    hasher,
    clock,
    audit,
    throttle,
    secrets: totpSecrets,
    issuer: `Gatehouse (${new URL(publicBaseUrl(config.http)).host})`,
  };

  const mailSender = await createMailSender(config, storage, clock, overrides.mailSender);
  const mailQueued = () => mailSender?.wake();
  const linkBase = publicBaseUrl(config.http);
  const mailFlows: MailFlowDeps = {
    users,
    mailTokens: storage.mailTokens,
    hasher,
    clock,
    audit,
    policy: passwordPolicy,
    throttle,
    resetTiming: new FailureTimingFloor(),
    renderMail: (draft) =>
      renderMailTemplate(draft.template, {
        to: draft.to,
        kind: MAIL_KIND_OF[draft.template],
        values: { ...draft.data, public_url: linkBase },
      }),
    mailQueued: () => mailQueued(),
    publicUrl: linkBase,
    verifyTokenTtl: config.mailFlows.verifyTokenTtl,
    resetTokenTtl: config.mailFlows.resetTokenTtl,
  };

  const rp = relyingParty(config);
  const passkeyDeps = {
    users,
    passkeys: storage.passkeys,
    hasher,
    throttle,
    clock,
    audit,
    rp,
  };
  const passkeyGrantDeps = {
    users,
    passkeys: storage.passkeys,
    sessions,
    tokens,
    clock,
    audit,
    rp,
    sessionTtlSeconds: config.tokens.refreshTtl,
    requireVerifiedEmail: config.mailFlows.requireVerifiedEmail,
  };

  return {
    clock,
    signingKeys,
    passwordPolicy,
    mailSender,
    registerUser: (input) =>
      registerUser(
        {
          users,
          hasher,
          clock,
          policy: passwordPolicy,
          audit,
          verification: {
            publicUrl: linkBase,
            ttlSeconds: mailFlows.verifyTokenTtl,
            renderMail: mailFlows.renderMail,
            mailQueued: mailFlows.mailQueued,
          },
        },
        input,
      ),
    readiness: async () => {
      const [store, redis] = await Promise.all([
        probe(() => storage.ping()),
        storage.redis && probe(() => storage.redis!.ping()),
      ]);
      return { store, ...(redis && { redis }), storeLocation: storage.location };
    },
    loadStats: () => ({
      hashing: {
        running: hashLimiter.running,
        queued: hashLimiter.queued,
        limit: hashLimiter.limit,
      },
      pool: storage.poolStats(),
    }),
    importUser: (input) => importUser({ users, clock, audit }, input),
    bootstrapAdmin: (admin) =>
      bootstrapAdmin({ users, hasher, clock, policy: passwordPolicy, audit }, admin),
    passwordGrant: (input) =>
      passwordGrant(
        {
          users,
          sessions,
          hasher,
          tokens,
          clock,
          audit,
          throttle,
          sessionTtlSeconds: config.tokens.refreshTtl,
          requireVerifiedEmail: config.mailFlows.requireVerifiedEmail,
          mfa: storage.mfa,
        },
        input,
      ),
    authenticate: (accessToken) => authenticate(authenticateDeps, accessToken),
    rotateRefreshToken: (refreshToken, client) =>
      rotateRefreshToken(
        {
          sessions,
          tokens,
          clock,
          audit,
          sessionTtlSeconds: config.tokens.refreshTtl,
          reuseGraceSeconds: config.tokens.refreshReuseGrace,
        },
        refreshToken,
        client,
      ),
    listSessions: (userId) => listSessions({ sessions, clock }, userId),
    endSession: (userId, sessionId, client, callerSessionId) =>
      endSession({ sessions, clock, audit }, userId, sessionId, client, callerSessionId),
    endAllSessions: (userId, except, client) =>
      endAllSessions({ sessions, clock, audit }, userId, except, client),
    changePassword: (input) =>
      changePassword(
        {
          users,
          sessions,
          hasher,
          clock,
          policy: passwordPolicy,
          audit,
          throttle,
          mailTokens: storage.mailTokens,
        },
        input,
      ),
    mfaOtpGrant: ({ mfaToken, otp, client }) =>
      completeMfaGrant(mfaGrantDeps, {
        mfaToken,
        client,
        check: otpCheck({ mfa, clock, audit, secrets: totpSecrets }, otp, client),
      }),
    completeMfaGrant: (input) => completeMfaGrant(mfaGrantDeps, input),
    mfaStatus: (userId) => mfaStatus({ mfa }, userId),
    startTotpEnrolment: (input) => startTotpEnrolment(enrolmentDeps, input),
    confirmTotpEnrolment: (input) => confirmTotpEnrolment(enrolmentDeps, input),
    disableTotp: (input) => disableTotp(enrolmentDeps, input),
    regenerateRecoveryCodes: (input) => regenerateRecoveryCodes(enrolmentDeps, input),
    resetUserMfa: (request) => resetUserMfa({ users, mfa, clock, audit }, request),
    requestEmailVerification: (userId, client) =>
      requestEmailVerification(mailFlows, { userId, client }),
    confirmEmailToken: (token, client) => confirmEmailToken(mailFlows, { token, client }),
    requestPasswordReset: (email, client) => requestPasswordReset(mailFlows, { email, client }),
    confirmPasswordReset: (token, newPassword, client) =>
      confirmPasswordReset(mailFlows, { token, newPassword, client }),
    requestEmailChange: (input) => requestEmailChange(mailFlows, input),
    getUser: (id) => getUser({ users }, id),
    findUser: (ref) => findUser({ users }, ref),
    listUsers: (page) => listUsers({ users }, page),
    countUsers: (filter) => users.count(filter),
    changeUserAccess: (request) => changeUserAccess({ users, sessions, audit, clock }, request),
    deleteUser: (request) => deleteUser({ users, sessions, audit, clock }, request),
    endUserSessions: (request) => endUserSessions({ users, sessions, audit, clock }, request),
    listAuditEvents: (filters, page) => listAuditEvents({ audit }, filters, page),
    verifyAuditChain: () => verifyAuditChain({ audit }),
    importUsers: (rows, options) =>
      importUsers({ transfer: storage.userTransfer, clock, audit }, rows, options),
    exportUsers: (pageSize) => storage.userTransfer.exportAll(pageSize),
    revokeToken: (token, hint, client) =>
      revokeToken({ tokens, sessions, clock, audit }, token, hint, client),
    introspectToken: (token) => introspectToken(authenticateDeps, token),
    authenticateApiClient: (clientId, secret) =>
      authenticateApiClient({ clients }, clientId, secret),
    createApiClient: (request) => createApiClient({ clients, clock, audit }, request),
    listApiClients: () => listApiClients({ clients }),
    deleteApiClient: (request) => deleteApiClient({ clients, clock, audit }, request),
    requireMailDelivery: () => {
      if (!mailDeliveryAvailable(config)) {
        throw new GatehouseError('mail_unavailable', 'Mail delivery is not configured');
      }
    },
    sendMail: async (mail) => {
      const id = await storage.mailOutbox.enqueue(mail, clock.now());
      mailQueued();
      return id;
    },
    mailQueued,
    purgeFinishedMail: () =>
      storage.mailOutbox.purgeFinished(new Date(clock.now().getTime() - MAIL_RETENTION_MS)),
    listMail: (filter) => storage.mailOutbox.list(filter),
    getMail: (id) => storage.mailOutbox.get(id),
    listMailCounts: () => storage.mailOutbox.countByStatus(),
    sendTestMail: async (to) => {
      const mail = renderMailTemplate('test-message', {
        to: parseEmail(to),
        kind: 'test_message',
        values: { public_url: `${publicBaseUrl(config.http)}/` },
      });
      const id = await storage.mailOutbox.enqueue(mail, clock.now());
      mailQueued();
      return id;
    },
    relyingParty: rp,
    passkeyRegistrationOptions: (input) => passkeyRegistrationOptions(passkeyDeps, input),
    registerPasskey: (input) => registerPasskey(passkeyDeps, input),
    listPasskeys: (userId) => listPasskeys(passkeyDeps, userId),
    renamePasskey: (input) => renamePasskey(passkeyDeps, input),
    deletePasskey: (input) => deletePasskey(passkeyDeps, input),
    passkeyAuthenticationOptions: (mfaToken) =>
      mfaToken === undefined
        ? passkeyAuthenticationOptions(passkeyGrantDeps)
        : mfaPasskeyOptions({ ...passkeyGrantDeps, mfa: storage.mfa }, mfaToken),
    mfaPasskeyGrant: ({ mfaToken, credential, client }) =>
      completeMfaGrant(mfaGrantDeps, {
        mfaToken,
        client,
        check: passkeyCheck(passkeyGrantDeps, credential, client),
      }),
    passkeyGrant: (input) => passkeyGrant(passkeyGrantDeps, input),
    purgeEndedSessions: async () => {
      // Used and expired mail tokens go on the same schedule (they open nothing any more).
      await storage.mailTokens.purge(clock.now());
      await storage.mfa.purgeChallenges(clock.now());
      await storage.passkeys.purgeChallenges(clock.now());
      return purgeEndedSessions({
        sessions,
        clock,
        reuseGraceSeconds: config.tokens.refreshReuseGrace,
      });
    },
  };
}

/** The probe's outcome and, when it failed, why: the cause storage gave its error, if any. */
async function probe(ping: () => Promise<void>): Promise<Probe> {
  try {
    await ping();
    return { status: 'ok' };
  } catch (error) {
    const cause = error instanceof Error ? (error.cause ?? error) : error;
    return { status: 'down', reason: cause instanceof Error ? cause.message : String(cause) };
  }
}

/**
 * WebAuthn L2 5.1.3 / 13.4.9: passkeys are bound to the RP ID, the host name of
 * GATEHOUSE_PUBLIC_URL (else of where this server listens, `localhost` in development), and
 * assertions are accepted only from that URL's origin, never one taken from the request.
 */
function relyingParty(config: Config): RelyingParty {
  const url = new URL(publicBaseUrl(config.http));
  return { id: url.hostname.replace(/^\[|\]$/g, ''), name: 'Gatehouse', origin: url.origin };
}
