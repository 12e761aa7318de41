import type { OutgoingMail } from '../mail/outgoing-mail.ts';
import type { Role, User, UserWithHash } from './user.ts';

/** An admin's change to an account (PATCH /users/{id}); absent fields stay as they are. */
export interface AccessChanges {
  role?: Role;
  disabled?: boolean;
}

export type AccessChangeResult =
  | { outcome: 'changed'; before: User; after: User }
  | { outcome: 'not_found' }
  /** The change would leave no active (role admin, not disabled) admin; nothing was written. */
  | { outcome: 'last_admin' };

export type DeleteUserResult =
  { outcome: 'deleted'; user: User } | { outcome: 'not_found' } | { outcome: 'last_admin' };

export interface NewUser {
  email: string;
  passwordHash: string;
  role: Role;
  createdAt: Date;
}

/** A self-registration's verification link (API.md 8), stored with the new account. */
export interface InitialVerification {
  /** SHA-256 (hex) of the `verify_email` token. */
  tokenHash: string;
  expiresAt: Date;
  mail: readonly OutgoingMail[];
}

/** Storage port for user accounts. SQLite and Postgres both implement it (test/contract). */
export interface UserRepository {
  /**
   * Inserts a user. Uniqueness of the normalised email is enforced by the store itself
   * (a unique index), so of concurrent inserts of one address exactly one succeeds; the
   * others throw GatehouseError `email_taken`. With `verification`, the `verify_email` token
   * and its mail (outbox) are stored in the same transaction: both or neither.
   */
  create(user: NewUser, verification?: InitialVerification): Promise<User>;

  /** The user with this normalised email, or undefined. No hash: for lookups that check none. */
  findByEmail(normalizedEmail: string): Promise<User | undefined>;

  /** The user with this normalised email, hash included (a password grant), or undefined. */
  findByEmailForLogin(normalizedEmail: string): Promise<UserWithHash | undefined>;

  findById(id: number): Promise<User | undefined>;

  /**
   * The user with this id, hash included, in one read, or undefined: for the steps that check
   * a signed-in user's password, or the hash a pending grant was issued against.
   */
  findCredentialsById(id: number): Promise<UserWithHash | undefined>;

  /**
   * Replaces the stored hash (rehash on login, password change), only while it is still
   * `verifiedHash`, the one the caller checked the password against; false otherwise (it was
   * replaced meanwhile, or there is no such user) and nothing changes. One conditional UPDATE:
   * of concurrent callers that verified the same hash, exactly one replaces it, so a login's
   * rehash of an old password never overwrites a newer one (on Postgres a waiting UPDATE
   * re-checks the row its competitor committed, under READ COMMITTED).
   */
  updatePasswordHash(id: number, passwordHash: string, verifiedHash: string): Promise<boolean>;

  /** Users ordered by id, after `afterId` when given. */
  list(options: { limit: number; afterId?: number; emailPrefix?: string }): Promise<User[]>;

  /** How many users `list` would page through with this `emailPrefix` (one COUNT). */
  count(options: { emailPrefix?: string }): Promise<number>;

  countAdmins(): Promise<number>;

  /**
   * Applies `changes` unless the user is an active admin and the change would leave no other
   * one (`last_admin`). Race-free across connections and instances: of two admins demoting or
   * disabling each other concurrently, exactly one change applies and the other gets
   * `last_admin`, so an active admin always remains. Disabling stamps `now`; re-disabling keeps
   * the first time.
   */
  changeAccess(id: number, changes: AccessChanges, now: Date): Promise<AccessChangeResult>;

  /**
   * Deletes the user, with their sessions and refresh tokens (cascade), under the same
   * last-admin guarantee as `changeAccess`.
   */
  delete(id: number): Promise<DeleteUserResult>;
}
