import type { AuditLog } from '../audit/audit-log.ts';
import { recordAuditEvent } from '../audit/record-audit-event.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import { ACCEPTED_HASH_FORMATS, parseStoredHash } from '../passwords/hash-formats.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import { checkPasswordPolicy, type PasswordPolicy } from '../passwords/password-policy.ts';
import type { ClientInfo } from '../client-info.ts';
import type { RenderMail } from '../email/mail-draft.ts';
import { verificationMail } from '../email/verify-email.ts';
import { newMailToken } from '../email/mail-token.ts';
import { normalizeEmail, parseEmail } from '../email-address.ts';
import type { Role, User } from './user.ts';
import type { InitialVerification, UserRepository } from './user-repository.ts';

export interface RegisterUserDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  clock: Clock;
  policy: PasswordPolicy;
  /** Where registrations are recorded (API.md 3). */
  audit: AuditLog;
  /**
   * API.md 8: a self-registration gets a verification link, stored with the account in one
   * transaction. Absent for tools that create users offline (CLI, bootstrap).
   */
  verification?: {
    publicUrl: string;
    ttlSeconds: number;
    renderMail: RenderMail;
    /** After the commit: wakes the sender. */
    mailQueued: () => void;
  };
}

export interface RegisterUserInput {
  email: string;
  password: string;
  /** Only trusted callers (CLI, bootstrap) pass a role; self-registration is always `user`. */
  role?: Role;
  client?: ClientInfo;
}

/** Checks email and password policy before any hashing, then stores the new account. */
export async function registerUser(
  deps: RegisterUserDeps,
  input: RegisterUserInput,
): Promise<User> {
  const email = parseEmail(input.email);
  checkPasswordPolicy(input.password, deps.policy, email);
  // Cheap early answer for the common duplicate; the unique index still decides races.
  if (await deps.users.findByEmail(normalizeEmail(email))) {
    throw new GatehouseError('email_taken', 'Email already registered');
  }
  const selfRegistered = input.role === undefined;
  return storeNewUser(
    deps,
    {
      verification: selfRegistered ? deps.verification : undefined,
      email,
      passwordHash: await deps.hasher.hash(input.password),
      role: input.role ?? 'user',
      // A self-registration is the new user's own act; a trusted creation (CLI, bootstrap) has
      // no known actor.
      selfRegistered,
    },
    input.client,
  );
}

/** Inserts the account and records `user.registered`. */
async function storeNewUser(
  deps: Pick<RegisterUserDeps, 'users' | 'clock' | 'audit'>,
  fields: {
    verification?: RegisterUserDeps['verification'];
    email: string;
    passwordHash: string;
    role: Role;
    selfRegistered: boolean;
    imported?: boolean;
  },
  client?: ClientInfo,
): Promise<User> {
  const createdAt = deps.clock.now();
  let verification: InitialVerification | undefined;
  if (fields.verification) {
    const { token, hash } = newMailToken();
    verification = {
      tokenHash: hash,
      expiresAt: new Date(createdAt.getTime() + fields.verification.ttlSeconds * 1000),
      mail: [
        fields.verification.renderMail(
          verificationMail(fields.verification.publicUrl, fields.email, token),
        ),
      ],
    };
  }
  const user = await deps.users.create(
    { email: fields.email, passwordHash: fields.passwordHash, role: fields.role, createdAt },
    verification,
  );
  fields.verification?.mailQueued();
  await recordAuditEvent(
    deps,
    'user.registered',
    {
      actorId: fields.selfRegistered ? user.id : null,
      subjectId: user.id,
      email: user.email,
      details: { role: user.role, ...(fields.imported ? { imported: true } : {}) },
    },
    client,
  );
  return user;
}

/**
 * Refuses a hash Gatehouse could not verify, or could only at an unbounded cost: a truncated or
 * mangled hash would import "fine" and lock its user out for good (hash-formats.ts).
 */
export function checkImportableHash(passwordHash: string): void {
  const parsed = parseStoredHash(passwordHash);
  if (!parsed.ok) {
    throw new GatehouseError(
      'invalid_input',
      `password hash refused: ${parsed.reason}; accepted: ${ACCEPTED_HASH_FORMATS}`,
      { field: 'password_hash' },
    );
  }
}

/** Creates a user from a hash made elsewhere (hash-formats.ts), e.g. a migration from passlib. */
export async function importUser(
  deps: Pick<RegisterUserDeps, 'users' | 'clock' | 'audit'>,
  input: { email: string; passwordHash: string; role?: Role },
): Promise<User> {
  checkImportableHash(input.passwordHash);
  return storeNewUser(deps, {
    email: parseEmail(input.email),
    passwordHash: input.passwordHash,
    role: input.role ?? 'user',
    selfRegistered: false,
    imported: true,
  });
}
