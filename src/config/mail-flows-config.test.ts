import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load-config.ts';

describe('mail flow settings (API.md 8)', () => {
  it('defaults: reset links live 30 min, verification links a day, limits on, verified email not required', () => {
    assert.deepEqual(loadConfig({}).mailFlows, {
      requireVerifiedEmail: false,
      resetTokenTtl: 1800,
      verifyTokenTtl: 86_400,
      resetRateLimitIp: 5,
      resetRateLimitAddress: 5,
    });
  });

  it('reads each variable', () => {
    const config = loadConfig({
      GATEHOUSE_REQUIRE_VERIFIED_EMAIL: 'true',
      GATEHOUSE_RESET_TOKEN_TTL: '600',
      GATEHOUSE_VERIFY_TOKEN_TTL: '3600',
      GATEHOUSE_RATE_LIMIT_PASSWORD_RESET: '0',
      GATEHOUSE_RATE_LIMIT_PASSWORD_RESET_ADDRESS: '3',
    });
    assert.deepEqual(config.mailFlows, {
      requireVerifiedEmail: true,
      resetTokenTtl: 600,
      verifyTokenTtl: 3600,
      resetRateLimitIp: 0,
      resetRateLimitAddress: 3,
    });
  });

  it('lists every bad value at once, naming the variable', () => {
    assert.throws(
      () =>
        loadConfig({
          GATEHOUSE_REQUIRE_VERIFIED_EMAIL: 'yes',
          GATEHOUSE_RESET_TOKEN_TTL: '5',
          GATEHOUSE_VERIFY_TOKEN_TTL: 'a day',
        }),
      (error) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 3);
        assert.match(error.problems[0]!, /GATEHOUSE_REQUIRE_VERIFIED_EMAIL/);
        assert.match(
          error.message,
          /GATEHOUSE_RESET_TOKEN_TTL="5": expected a whole number from 60/,
        );
        assert.match(error.message, /GATEHOUSE_VERIFY_TOKEN_TTL/);
        return true;
      },
    );
  });
});
