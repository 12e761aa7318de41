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

/** The part of `scope` the role still allows, in the role's order (a demoted admin loses `admin`). */
export function narrowScope(scope: string, role: Role): string {
  const held = new Set(scope.split(' '));
  return SCOPES_BY_ROLE[role].filter((s) => held.has(s)).join(' ');
}
