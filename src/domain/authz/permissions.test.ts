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
      assert.equal(hasPermission(grantee('admin', 'me admin'), permission), true, permission);
      assert.equal(hasPermission(grantee('admin', 'me'), permission), false, 'scope missing');
      assert.equal(hasPermission(grantee('user', 'me admin'), permission), false, 'role missing');
    }
  });

  it('refuse with permission_denied', () => {
    assert.throws(
      () => assertPermission(grantee('user', 'me'), 'users:manage'),
      (e) => isGatehouseError(e, 'permission_denied') && e.message === 'Not enough permissions',
    );
    assert.doesNotThrow(() => assertPermission(grantee('admin', 'admin'), 'audit:read'));
  });
});
