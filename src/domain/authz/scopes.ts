import type { Role } from '../accounts/user.ts';

/**
 * OAuth2 scopes each role may hold (data, not branches). A token carries the scopes granted
 * at login; a permission needs both the scope in the token and the role in the store.
 */
export const SCOPES_BY_ROLE: Readonly<Record<Role, readonly string[]>> = Object.freeze({
  user: ['me'],
  admin: ['me', 'admin'],
});

export function defaultScopeFor(role: Role): string {
  return SCOPES_BY_ROLE[role].join(' ');
}
