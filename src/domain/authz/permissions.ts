import type { Role } from '../accounts/user.ts';
import { GatehouseError } from '../errors.ts';

interface PermissionRule {
  /** The OAuth2 scope the access token must carry. */
  readonly scope: string;
  /** The roles, read from the store on every request, that hold the permission. */
  readonly roles: readonly Role[];
}

/**
 * What each permission needs (data, not branches). Both halves must hold: the scope proves
 * the client was granted it at login (a token asked for with `scope=me` can't administer,
 * even an admin's); the role proves the user still has it now (a demoted admin's token loses
 * its power on the next request, not at expiry).
 */
export const PERMISSIONS = {
  // The caller's own account (profile, sessions, password): what `me` means. A token narrowed
  // to `scope=admin` is an administration key, not a general one (RFC 6749 3.3, RFC 9700 2.3:
  // least privilege); ending its own session needs no scope (http/routes/sessions.ts).
  'account:manage': { scope: 'me', roles: ['user', 'admin'] },
  'users:manage': { scope: 'admin', roles: ['admin'] },
  'audit:read': { scope: 'admin', roles: ['admin'] },
  'clients:manage': { scope: 'admin', roles: ['admin'] },
} as const satisfies Record<string, PermissionRule>;

export type Permission = keyof typeof PERMISSIONS;

/** The caller as the permission check sees it. */
export interface Grantee {
  user: { role: Role };
  scopes: ReadonlySet<string>;
}

export function hasPermission(grantee: Grantee, permission: Permission): boolean {
  const rule: PermissionRule = PERMISSIONS[permission];
  return rule.roles.includes(grantee.user.role) && grantee.scopes.has(rule.scope);
}

/** Throws `permission_denied` (403 "Not enough permissions") unless the grantee holds it. */
export function assertPermission(grantee: Grantee, permission: Permission): void {
  if (!hasPermission(grantee, permission)) {
    throw new GatehouseError('permission_denied', 'Not enough permissions');
  }
}

/** The scope a route guarded by `permission` needs, for its OpenAPI security requirement. */
export function scopeOf(permission: Permission): string {
  return PERMISSIONS[permission].scope;
}
