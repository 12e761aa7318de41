import type { Config } from './config/config.ts';
import { listenUrl } from './config/load-config.ts';
import {
  changeUserAccess,
  deleteUser,
  getUser,
  listUsers,
  type AdminRequest,
} from './domain/accounts/admin-users.ts';
import type { AccessChanges } from './domain/accounts/user-repository.ts';
import type { AuditEntry, AuditFilters } from './domain/audit/audit-log.ts';
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
import { verifyAuditChain, type AuditChainReport } from './domain/audit/verify-audit-chain.ts';
import { bootstrapAdmin } from './domain/accounts/bootstrap-admin.ts';
import { parseEmail } from './domain/accounts/email.ts';
import {
  importUser,
  registerUser,
  type RegisterUserInput,
} from './domain/accounts/register-user.ts';
import type { Role, User } from './domain/accounts/user.ts';
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
import { LoginThrottle, resolveThrottleKeySecret } from './domain/sessions/login-throttle.ts';
import { passwordGrant } from './domain/sessions/password-grant.ts';
import {
  completeMfaGrant,
  type MfaGrantDeps,
  type SecondFactorCheck,
} from './domain/mfa/complete-mfa-grant.ts';
import { otpCheck } from './domain/mfa/otp-check.ts';
import { TotpSecrets } from './domain/mfa/totp.ts';
import {
  confirmTotpEnrolment,
  disableTotp,
  mfaStatus,
  regenerateRecoveryCodes,
  resetUserMfa,
  startTotpEnrolment,
  type MfaStatus,
  type TotpEnrolmentDeps,
} from './domain/mfa/totp-enrolment.ts';
import { rotateRefreshToken } from './domain/sessions/rotate-refresh-token.ts';
import type { ClientInfo, Session } from './domain/sessions/session.ts';
import { AccessTokens } from './domain/tokens/access-tokens.ts';
import type { ApiClient } from './domain/clients/api-client.ts';
import {
  authenticateApiClient,
  createApiClient,
  deleteApiClient,
  listApiClients,
  type ClientAdminRequest,
} from './domain/clients/api-clients.ts';
import { introspectToken, type Introspection } from './domain/sessions/introspect-token.ts';
import { revokeToken, type TokenTypeHint } from './domain/sessions/revoke-token.ts';
import { openSigningKeys, type SigningKeys } from './domain/tokens/signing-keys.ts';
import type { Storage } from './storage/open-storage.ts';
import type { RelyingParty } from './domain/passkeys/ceremony.ts';
import type { Passkey } from './domain/passkeys/passkey.ts';
import {
  deletePasskey,
  listPasskeys,
  passkeyRegistrationOptions,
  registerPasskey,
  renamePasskey,
} from './domain/passkeys/manage-passkeys.ts';
import { passkeyAuthenticationOptions, passkeyGrant } from './domain/passkeys/passkey-grant.ts';
import { mfaPasskeyOptions, passkeyCheck } from './domain/passkeys/mfa-passkey.ts';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';

/** The use cases of Gatehouse, wired to concrete parts. The server and the CLI both use this. */
export interface Services {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly hasher: PasswordHasher;
  readonly hashLimiter: WorkLimiter;
  readonly tokens: AccessTokens;
  /** The signing keys (API.md 7): JWKS, rotation, `gatehouse keys`. */
  readonly signingKeys: SigningKeys;
  readonly passwordPolicy: PasswordPolicy;
  /**
   * The outbox's background sender; undefined in production without SMTP (nothing can be
   * delivered; start-up warns). serve.ts starts and stops it.
   */
  readonly mailSender: MailSender | undefined;
  registerUser(input: RegisterUserInput): Promise<User>;
  /** Creates a user from an argon2id or bcrypt hash made elsewhere (CLI import). */
  importUser(input: { email: string; passwordHash: string; role?: Role }): Promise<User>;
  /** Creates the configured first admin when the store has none; undefined when not needed. */
  bootstrapAdmin(admin: { email: string; password: string }): Promise<User | undefined>;
  passwordGrant(input: {
    username: string;
    password: string;
    /** RFC 6749 3.3: the scopes asked for, space-separated; absent = all the role allows. */
    scope?: string;
    client: ClientInfo;
  }): Promise<TokenGrant>;
  authenticate(accessToken: string): Promise<Principal>;
  rotateRefreshToken(refreshToken: string, client?: ClientInfo): Promise<TokenGrant>;
  listSessions(userId: number): Promise<Session[]>;
  /** `callerSessionId`: the session asking (ending itself is a sign-out). */
  endSession(
    userId: number,
    sessionId: string,
    client?: ClientInfo,
    callerSessionId?: string,
  ): Promise<void>;
  endAllSessions(userId: number, exceptSessionId?: string, client?: ClientInfo): Promise<number>;
  changePassword(input: {
    userId: number;
    sessionId: string;
    currentPassword: string;
    newPassword: string;
    client?: ClientInfo;
  }): Promise<void>;
  // Second factors (API.md 9).
  /** POST /token grant_type=urn:gatehouse:params:oauth:grant-type:mfa-otp. */
  mfaOtpGrant(input: { mfaToken: string; otp: string; client: ClientInfo }): Promise<TokenGrant>;
  /** The MFA step with any proof (passkeys bring their own `check`). */
  completeMfaGrant(input: {
    mfaToken: string;
    client: ClientInfo;
    check: SecondFactorCheck;
  }): Promise<TokenGrant>;
  mfaStatus(userId: number): Promise<MfaStatus>;
  startTotpEnrolment(input: {
    userId: number;
    currentPassword: string;
    client?: ClientInfo;
  }): Promise<{ secret: string; otpauthUri: string }>;
  confirmTotpEnrolment(input: {
    userId: number;
    code: string;
    client?: ClientInfo;
  }): Promise<string[]>;
  disableTotp(input: {
    userId: number;
    currentPassword: string;
    client?: ClientInfo;
  }): Promise<void>;
  regenerateRecoveryCodes(input: {
    userId: number;
    currentPassword: string;
    client?: ClientInfo;
  }): Promise<string[]>;
  resetUserMfa(request: AdminRequest & { userId: number }): Promise<void>;
  // Mail flows (API.md 8).
  requestEmailVerification(userId: number, client?: ClientInfo): Promise<void>;
  /** A verification or email-change token from a link (POST /verify-email). */
  confirmEmailToken(token: string, client?: ClientInfo): Promise<void>;
  requestPasswordReset(email: string, client?: ClientInfo): Promise<void>;
  confirmPasswordReset(token: string, newPassword: string, client?: ClientInfo): Promise<void>;
  requestEmailChange(input: {
    userId: number;
    newEmail: string;
    currentPassword: string;
    client?: ClientInfo;
  }): Promise<void>;
  // Admin API (API.md 3): callers check the permission first (http/authorize.ts).
  getUser(id: number): Promise<User>;
  listUsers(page: {
    limit: number;
    afterId?: number;
    emailPrefix?: string;
  }): Promise<{ items: User[]; nextAfterId: number | undefined }>;
  changeUserAccess(
    request: AdminRequest & { userId: number; changes: AccessChanges },
  ): Promise<User>;
  deleteUser(request: AdminRequest & { userId: number }): Promise<void>;
  listAuditEvents(
    filters: AuditFilters,
    page: { limit: number; beforeId?: number },
  ): Promise<{ items: AuditEntry[]; nextBeforeId: number | undefined }>;
  /** Walks the audit log's hash chain; the first broken entry, or the head to record. */
  verifyAuditChain(): Promise<AuditChainReport>;
  purgeEndedSessions(): Promise<number>;
  // RFC 7009 revocation, RFC 7662 introspection and the API clients that may introspect.
  /** Ends the session of the token, if it is one of ours; false for anything else (no error). */
  revokeToken(token: string, hint?: TokenTypeHint, client?: ClientInfo): Promise<boolean>;
  introspectToken(token: string): Promise<Introspection>;
  /** The registered client these credentials belong to, or `invalid_client`. */
  authenticateApiClient(clientId: string, secret: string): Promise<ApiClient>;
  createApiClient(
    request: ClientAdminRequest & { name: string },
  ): Promise<{ client: ApiClient; secret: string }>;
  listApiClients(): Promise<ApiClient[]>;
  deleteApiClient(request: ClientAdminRequest & { id: number }): Promise<void>;
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
  passkeyRegistrationOptions(input: {
    userId: number;
    currentPassword: string;
  }): Promise<PublicKeyCredentialCreationOptionsJSON>;
  registerPasskey(input: {
    userId: number;
    credential: unknown;
    name?: string;
    client?: ClientInfo;
  }): Promise<Passkey>;
  listPasskeys(userId: number): Promise<Passkey[]>;
  renamePasskey(input: { userId: number; id: string; name: string }): Promise<Passkey>;
  deletePasskey(input: { userId: number; id: string; client?: ClientInfo }): Promise<void>;
  /** Passwordless options; with an `mfa_token`, options bound to that password grant's user. */
  passkeyAuthenticationOptions(mfaToken?: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** The MFA step with a passkey (`urn:gatehouse:params:oauth:grant-type:mfa-webauthn`). */
  mfaPasskeyGrant(input: {
    mfaToken: string;
    credential: unknown;
    client: ClientInfo;
  }): Promise<TokenGrant>;
  /** The passwordless grant (`urn:gatehouse:params:oauth:grant-type:webauthn`). */
  passkeyGrant(input: {
    credential: unknown;
    scope?: string;
    client: ClientInfo;
  }): Promise<TokenGrant>;
}

export interface ServiceOverrides {
  clock?: Clock;
  /** Tests: a faster poll, a short lease, a fixed jitter. */
  mailSender?: Pick<MailSenderSettings, 'pollIntervalMs' | 'batchSize' | 'leaseMs' | 'random'>;
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
  // Reads first (API.md 4, issue 7): while the event loop is saturated, hashing leaves one
  // core to it, so a login flood can't take the CPU that serves authenticated requests. The
  // bench measured ELU 0.3-0.6 under logins alone and 0.97-1 when reads and a login flood
  // compete; there /users/me/ p99 went from 3.2-4.75x to 2-3x its unloaded p99 (BENCHMARKS.md).
  const loop = new EventLoopLoad();
  const hashLimiter = new WorkLimiter({
    concurrency: () =>
      loop.utilization > SATURATED_EVENT_LOOP
        ? Math.max(1, config.hashConcurrency - 1)
        : config.hashConcurrency,
    maxQueued: config.hashQueueLimit,
  });
  const hasher = new Argon2PasswordHasher(config.argon2, hashLimiter);
  const signingKeys = await openSigningKeys(
    {
      settings: storage.settings,
      repository: storage.signingKeys,
      clock,
      encryptionKey:
        config.keyEncryptionKey && Buffer.from(config.keyEncryptionKey.reveal(), 'hex'),
    },
    {
      alg: config.jwtAlgorithm,
      hmacSecret: config.jwtSecret?.reveal(),
      accessTokenTtlSeconds: config.accessTokenTtl,
      clockToleranceSeconds: config.clockToleranceSeconds,
      rotationDays: config.keyRotationDays,
    },
  );
  const tokens = new AccessTokens(
    signingKeys.tokenKeys,
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
  const { users, sessions, audit, apiClients: clients } = storage;
  const throttle = new LoginThrottle(
    {
      repository: storage.loginThrottles,
      clock,
      // A secret kept outside the store: the HS256 secret, else (asymmetric signing, API.md 7)
      // the key encryption key; HKDF with the throttle's own label keeps the two independent.
      keySecret: await resolveThrottleKeySecret(
        config.jwtSecret?.reveal() ?? config.keyEncryptionKey?.reveal(),
        storage.settings,
      ),
    },
    config.loginThrottle,
  );

  // API.md 9: TOTP secrets are sealed under the key that seals signing keys (API.md 7), if set.
  const totpSecrets = new TotpSecrets(
    config.keyEncryptionKey && Buffer.from(config.keyEncryptionKey.reveal(), 'hex'),
  );
  const mfa = storage.mfa;
  const mfaGrantDeps: MfaGrantDeps = {
    users,
    sessions,
    tokens,
    clock,
    audit,
    throttle,
    mfa,
    sessionTtlSeconds: config.refreshTokenTtl,
  };
  const enrolmentDeps: TotpEnrolmentDeps = {
    users,
    mfa,
    hasher,
    clock,
    audit,
    throttle,
    secrets: totpSecrets,
    issuer: `Gatehouse (${new URL(mailLinkBase(config)).host})`,
  };

  const mailSender = await createMailSender(config, storage, clock, overrides.mailSender);
  const mailQueued = () => mailSender?.wake();
  const linkBase = mailLinkBase(config);
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
    sessionTtlSeconds: config.refreshTokenTtl,
    requireVerifiedEmail: config.mailFlows.requireVerifiedEmail,
  };

  return {
    storage,
    clock,
    hasher,
    hashLimiter,
    tokens,
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
          sessionTtlSeconds: config.refreshTokenTtl,
          requireVerifiedEmail: config.mailFlows.requireVerifiedEmail,
          mfa: storage.mfa,
        },
        input,
      ),
    authenticate: (accessToken) => authenticate({ tokens, sessions, clock }, accessToken),
    rotateRefreshToken: (refreshToken, client) =>
      rotateRefreshToken(
        {
          sessions,
          tokens,
          clock,
          audit,
          sessionTtlSeconds: config.refreshTokenTtl,
          reuseGraceSeconds: config.refreshReuseGrace,
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
    listUsers: (page) => listUsers({ users }, page),
    changeUserAccess: (request) => changeUserAccess({ users, sessions, audit, clock }, request),
    deleteUser: (request) => deleteUser({ users, sessions, audit, clock }, request),
    listAuditEvents: (filters, page) => listAuditEvents({ audit }, filters, page),
    verifyAuditChain: () => verifyAuditChain({ audit }),
    revokeToken: (token, hint, client) =>
      revokeToken({ tokens, sessions, clock, audit }, token, hint, client),
    introspectToken: (token) => introspectToken({ tokens, sessions, clock }, token),
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
        values: { public_url: `${mailLinkBase(config)}/` },
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
      return purgeEndedSessions({ sessions, clock, reuseGraceSeconds: config.refreshReuseGrace });
    },
  };
}

/**
 * The absolute base of links in mail: GATEHOUSE_PUBLIC_URL, else where this server listens.
 * Never the request's Host header: an attacker could set it and receive a victim's reset link
 * (OWASP Forgot Password Cheat Sheet, "password reset poisoning").
 */
function mailLinkBase(config: Config): string {
  if (config.publicUrl !== undefined) return config.publicUrl;
  // A wildcard listen address is no host a mail reader's browser can open.
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host;
  return listenUrl(host, config.port);
}

/**
 * WebAuthn L2 5.1.3 / 13.4.9: passkeys are bound to the RP ID, the host name of
 * GATEHOUSE_PUBLIC_URL (else of where this server listens, `localhost` in development), and
 * assertions are accepted only from that URL's origin, never one taken from the request.
 */
function relyingParty(config: Config): RelyingParty {
  const url = new URL(mailLinkBase(config));
  return { id: url.hostname.replace(/^\[|\]$/g, ''), name: 'Gatehouse', origin: url.origin };
}
