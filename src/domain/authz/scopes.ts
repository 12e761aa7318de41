import type { Role } from '../accounts/user.ts';
import { GatehouseError } from '../errors.ts';

/**
 * OAuth2 scopes each role may hold (data, not branches). A token carries the scopes granted
 * at login; a permission needs both the scope in the token and the role in the store.
 */
export const SCOPES_BY_ROLE: Readonly<Record<Role, readonly string[]>> = Object.freeze({
  user: ['me'],
  admin: ['me', 'admin'],
});

// Joined once: narrowScope answers every authenticated request of a `*` session with it.
const DEFAULT_SCOPES: Readonly<Record<Role, string>> = Object.freeze({
  user: SCOPES_BY_ROLE.user.join(' '),
  admin: SCOPES_BY_ROLE.admin.join(' '),
});

export function defaultScopeFor(role: Role): string {
  return DEFAULT_SCOPES[role];
}

/**
 * What a session stores when the client asked for no particular scope: "whatever the role
 * allows", resolved against the role read from the store on every request. A promoted user's
 * open sessions gain `admin` at once, as a demoted admin's lose it (API.md 3: a role change
 * takes effect immediately); an explicit `scope=me` stays `me`.
 */
export const ROLE_SCOPE = '*';

/** The part of `scope` the role allows now, in the role's order (a demoted admin loses `admin`). */
export function narrowScope(scope: string, role: Role): string {
  if (scope === ROLE_SCOPE) return defaultScopeFor(role);
  const held = new Set(scope.split(' '));
  return SCOPES_BY_ROLE[role].filter((s) => held.has(s)).join(' ');
}

/** What the session records for a grant: ROLE_SCOPE when nothing in particular was asked for. */
export function sessionScopeFor(requested: string | undefined, granted: string): string {
  return (requested ?? '').trim() === '' ? ROLE_SCOPE : granted;
}

// RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by single spaces.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * The scope to grant when a client asks for `requested` (RFC 6749 3.3, FastAPI's scopes
 * tutorial): absent or empty means everything the role allows; otherwise every scope asked
 * for must be one the role allows, else `invalid_scope` (RFC 6749 5.2). Returned in the
 * role's order, without duplicates.
 */
export function grantScope(requested: string | undefined, role: Role): string {
  const asked = (requested ?? '').split(' ').filter(Boolean);
  if (asked.length === 0) return defaultScopeFor(role);
  const allowed = SCOPES_BY_ROLE[role];
  const refused = asked.filter((s) => !allowed.includes(s));
  if (refused.length > 0) {
    const shown = refused.find((s) => SCOPE_TOKEN.test(s) && s.length <= 40);
    throw new GatehouseError(
      'invalid_scope',
      shown === undefined
        ? 'The requested scope is invalid or not allowed for this account'
        : `The requested scope is not allowed for this account: ${shown}`,
    );
  }
  return allowed.filter((s) => asked.includes(s)).join(' ');
}
