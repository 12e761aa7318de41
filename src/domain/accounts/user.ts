export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: number;
  email: string;
  role: Role;
  disabled: boolean;
  /** API.md 8: the user proved they read mail at `email` (a link was followed). */
  emailVerified: boolean;
  /** API.md 9: the user has a second factor (TOTP or, with migration 0013, a passkey). */
  mfaEnabled: boolean;
  createdAt: Date;
}

/** A user together with the stored password hash; never leaves the domain. */
export interface UserWithHash extends User {
  passwordHash: string;
}
