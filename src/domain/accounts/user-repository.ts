import type { Role, User, UserWithHash } from './user.ts';

export interface NewUser {
  email: string;
  passwordHash: string;
  role: Role;
  createdAt: Date;
}

/** Storage port for user accounts. SQLite and Postgres both implement it (test/contract). */
export interface UserRepository {
  /**
   * Inserts a user. Uniqueness of the normalised email is enforced by the store itself
   * (a unique index), so of concurrent inserts of one address exactly one succeeds; the
   * others throw GatehouseError `email_taken`.
   */
  create(user: NewUser): Promise<User>;

  /** The user with this normalised email, hash included, or undefined. */
  findByEmailForLogin(normalizedEmail: string): Promise<UserWithHash | undefined>;

  findById(id: number): Promise<User | undefined>;

  /** Replaces the stored hash (rehash on login, password change). False if no such user. */
  updatePasswordHash(id: number, passwordHash: string): Promise<boolean>;

  /** Users ordered by id, after `afterId` when given. */
  list(options: { limit: number; afterId?: number; emailPrefix?: string }): Promise<User[]>;

  countAdmins(): Promise<number>;
}
