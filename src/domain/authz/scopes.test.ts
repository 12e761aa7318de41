import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatehouseError } from '../errors.ts';
import { defaultScopeFor, grantScope, narrowScope } from './scopes.ts';

describe('grantScope', () => {
  it('grants everything the role allows when nothing, or only spaces, is asked for', () => {
    assert.equal(grantScope(undefined, 'admin'), 'me admin');
    assert.equal(grantScope('', 'user'), 'me');
    assert.equal(grantScope('   ', 'admin'), defaultScopeFor('admin'));
  });

  it("grants a subset in the role's order, without duplicates", () => {
    assert.equal(grantScope('admin me', 'admin'), 'me admin');
    assert.equal(grantScope('admin  admin', 'admin'), 'admin');
    assert.equal(grantScope('me', 'admin'), 'me');
  });

  it('refuses a scope the role lacks or nobody has, naming it when it is printable', () => {
    assert.throws(
      () => grantScope('me admin', 'user'),
      (e) => isGatehouseError(e, 'invalid_scope') && /: admin$/.test(e.message),
    );
    assert.throws(
      () => grantScope('ME', 'admin'),
      (e) => isGatehouseError(e, 'invalid_scope'),
    );
    assert.throws(
      () => grantScope('"<script>', 'admin'),
      (e) => isGatehouseError(e, 'invalid_scope') && !e.message.includes('<script>'),
    );
  });
});

describe('narrowScope', () => {
  it('drops what the current role no longer allows', () => {
    assert.equal(narrowScope('me admin', 'user'), 'me');
    assert.equal(narrowScope('admin', 'user'), '');
    assert.equal(narrowScope('me', 'admin'), 'me', 'a promotion adds nothing to a granted scope');
  });
});
