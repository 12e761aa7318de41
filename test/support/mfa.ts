import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { totpCodeAt } from '../../src/domain/mfa/totp.ts';
import type { Clock } from '../../src/domain/clock.ts';
import { bearer, FORM } from './admins.ts';
import { STRONG_PASSWORD } from './test-app.ts';

export const MFA_OTP = 'urn:gatehouse:params:oauth:grant-type:mfa-otp';

/** The TOTP code of `secret` at the clock's now, shifted by `steps`. */
export function codeAt(secret: string, clock: Clock, steps = 0): string {
  return totpCodeAt(secret, Math.floor(clock.now().getTime() / 30_000) + steps);
}

/** Turns TOTP on for the bearer of `accessToken`; returns the secret and the recovery codes. */
export async function enrolTotp(
  app: FastifyInstance,
  accessToken: string,
  clock: Clock,
): Promise<{ secret: string; recoveryCodes: string[] }> {
  const started = await app.inject({
    method: 'POST',
    url: '/users/me/mfa/totp',
    headers: bearer(accessToken),
    payload: { current_password: STRONG_PASSWORD },
  });
  assert.equal(started.statusCode, 200, started.body);
  const { secret } = started.json() as { secret: string };
  const confirmed = await app.inject({
    method: 'POST',
    url: '/users/me/mfa/totp/confirm',
    headers: bearer(accessToken),
    payload: { code: codeAt(secret, clock) },
  });
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  return {
    secret,
    recoveryCodes: (confirmed.json() as { recovery_codes: string[] }).recovery_codes,
  };
}

/** The password grant; for an enrolled user, the 403 `mfa_required`. */
export function passwordLogin(
  app: FastifyInstance,
  email: string,
  headers: Record<string, string> = {},
  password = STRONG_PASSWORD,
) {
  return app.inject({
    method: 'POST',
    url: '/token',
    headers: { ...FORM, ...headers },
    payload: new URLSearchParams({ username: email, password }).toString(),
  });
}

/** The `mfa_token` of a password grant that must answer 403 `mfa_required`. */
export async function mfaToken(app: FastifyInstance, email: string): Promise<string> {
  const response = await passwordLogin(app, email);
  assert.equal(response.statusCode, 403, response.body);
  const body = response.json() as { error: string; mfa_token: string };
  assert.equal(body.error, 'mfa_required');
  return body.mfa_token;
}

export function mfaOtp(
  app: FastifyInstance,
  token: string,
  otp: string,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: '/token',
    headers: { ...FORM, ...headers },
    payload: new URLSearchParams({ grant_type: MFA_OTP, mfa_token: token, otp }).toString(),
  });
}
