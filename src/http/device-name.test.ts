import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceName } from './device-name.ts';

describe('deviceName', () => {
  it('names browsers and their system, and command-line clients by their product', () => {
    const chrome =
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
    assert.equal(deviceName(chrome), 'Chrome on Linux');
    const iphone =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';
    assert.equal(deviceName(iphone), 'Safari on iOS');
    assert.equal(deviceName('curl/8.4.0'), 'curl');
    assert.equal(deviceName('python-requests/2.31.0'), 'python-requests');
  });

  it('is null without a User-Agent', () => {
    assert.equal(deviceName(null), null);
    assert.equal(deviceName('   '), null);
  });
});
