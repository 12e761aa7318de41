import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Role } from '../accounts/user.ts';
import { isGatehouseError } from '../errors.ts';
import { assertPermission, hasPermission, PERMISSIONS, type Permission } from './permissions.ts';

const grantee = (role: Role, scope: string) => ({
  user: { role },
  scopes: new Set(scope.split(' ').filter(Boolean)),
});

describe('permissions', () => {
  it('need both the role and the scope', () => {
    for (const permission of Object.keys(PERMISSIONS) as Permission[]) {
      const { scope, roles } = PERMISSIONS[permission];
      for (const role of ['user', 'admin'] as const) {
        const held = roles.some((r) => r === role);
        assert.equal(hasPermission(grantee(role, 'me admin'), permission), held, permission);
        const other = scope === 'me' ? 'admin' : 'me';
        assert.equal(hasPermission(grantee(role, other), permission), false, 'scope missing');
      }
    }
  });

  it('let only `me` reach the own account, whatever the role', () => {
    assert.equal(hasPermission(grantee('user', 'me'), 'account:manage'), true);
    assert.equal(hasPermission(grantee('admin', 'me'), 'account:manage'), true);
    assert.equal(hasPermission(grantee('admin', 'admin'), 'account:manage'), false);
  });

  it('refuse with permission_denied', () => {
    assert.throws(
      () => assertPermission(grantee('user', 'me'), 'users:manage'),
      (e) => isGatehouseError(e, 'permission_denied') && e.message === 'Not enough permissions',
    );
    assert.doesNotThrow(() => assertPermission(grantee('admin', 'admin'), 'audit:read'));
  });
});
