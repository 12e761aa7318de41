import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey } from './rate-limit.ts';

describe('addressKey', () => {
  it('keeps IPv4 addresses whole', () => {
    assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7');
  });

  it('counts IPv6 clients by their /64, however the address is written', () => {
    const key = '2001:db8:0:1::/64';
    assert.equal(addressKey('2001:db8:0:1::1'), key);
    assert.equal(addressKey('2001:DB8:0000:0001:ffff:1:2:3'), key);
    assert.equal(addressKey('2001:db8:0:1:0:0:1.2.3.4'), key);
    assert.notEqual(addressKey('2001:db8:0:2::1'), key);
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });
});
