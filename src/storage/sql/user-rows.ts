import type { Selectable } from 'kysely';
import { ROLES, type Role, type User } from '../../domain/accounts/user.ts';
import type { UsersTable } from './database.ts';
import { toDate } from './db-time.ts';

export const USER_COLUMNS = [
  'id',
  'email',
  'role',
  'created_at',
  'disabled_at',
  'email_verified',
  'mfa_enabled',
] as const;

type UserRow = Pick<Selectable<UsersTable>, (typeof USER_COLUMNS)[number]>;

function toRole(value: string): Role {
  // The column has a CHECK constraint; this guards against a hand-edited row all the same.
  return (ROLES as readonly string[]).includes(value) ? (value as Role) : 'user';
}

export function toUser(row: UserRow): User {
  return {
    id: Number(row.id),
    email: row.email,
    role: toRole(row.role),
    disabled: row.disabled_at !== null,
    // SQLite answers 0/1, Postgres a boolean.
    emailVerified: Boolean(row.email_verified),
    mfaEnabled: Boolean(row.mfa_enabled),
    createdAt: toDate(row.created_at),
  };
}
