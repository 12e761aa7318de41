import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  jwtVerify,
  SignJWT,
} from 'jose';
import { ManualClock } from '../clock.ts';
import { GatehouseError, type ErrorCode } from '../errors.ts';
import {
  AccessTokens,
  MAX_ACCESS_TOKEN_LENGTH,
  type AccessTokenSettings,
} from './access-tokens.ts';
import { HmacKeys } from './token-keys.ts';

const SECRET = 'unit-test-secret-unit-test-secret-0123456789';
const SECRET_BYTES = new TextEncoder().encode(SECRET);
const SETTINGS: AccessTokenSettings = {
  issuer: 'gatehouse',
  audience: 'gatehouse',
  ttlSeconds: 1800,
  clockToleranceSeconds: 5,
};
const START = new Date('2030-01-01T00:00:00Z');
const SUBJECT = { userId: 42, sessionId: 'b7f3c9e2-5d1a-4c8e-9f3b-2a6d8e1c4f70', scope: 'me' };

function setup(settings: AccessTokenSettings = SETTINGS) {
  const clock = new ManualClock(START);
  const tokens = new AccessTokens(createSecretKey(Buffer.from(SECRET, 'utf8')), settings, clock);
  return { clock, tokens };
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Claims exactly as Gatehouse issues them at START. */
function validClaims(): Record<string, unknown> {
  const iat = Math.floor(START.getTime() / 1000);
  return {
    sub: String(SUBJECT.userId),
    sid: SUBJECT.sessionId,
    scope: SUBJECT.scope,
    jti: 'd0c1b2a3-0000-4000-8000-000000000001',
    iss: SETTINGS.issuer,
    aud: SETTINGS.audience,
    iat,
    exp: iat + SETTINGS.ttlSeconds,
  };
}

/** Signs `claims` with jose under any header and key: the attacker's toolbox. */
function craft(
  claims: Record<string, unknown>,
  header: { alg: string; typ?: string },
  key: Parameters<SignJWT['sign']>[0] = SECRET_BYTES,
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

async function assertRefused(
  tokens: AccessTokens,
  token: string,
  code: ErrorCode = 'invalid_token',
): Promise<void> {
  await assert.rejects(tokens.verify(token), (error: unknown) => {
    assert.ok(error instanceof GatehouseError, `expected a GatehouseError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

describe('AccessTokens: issue and verify', () => {
  it('issues a token that verifies back to the same user, session and scope', async () => {
    const { tokens } = setup();
    const issued = await tokens.issue(SUBJECT);
    assert.equal(issued.expiresIn, 1800);
    const claims = await tokens.verify(issued.token);
    assert.equal(claims.userId, 42);
    assert.equal(claims.sessionId, SUBJECT.sessionId);
    assert.equal(claims.scope, 'me');
    assert.match(claims.tokenId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(claims.expiresAt, new Date(START.getTime() + 1800 * 1000));
  });

  it('writes the RFC 9068 claims and the at+jwt type header', async () => {
    const { tokens } = setup();
    const { token } = await tokens.issue(SUBJECT);
    // API.md 7: every token names its key; under HS256 the kid is derived from the secret.
    const header = decodeProtectedHeader(token);
    assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ']);
    assert.equal(header.alg, 'HS256');
    assert.equal(header.typ, 'at+jwt');
    assert.match(String(header.kid), /^[A-Za-z0-9_-]{16}$/);
    assert.ok(!SECRET.includes(String(header.kid)), 'the kid does not quote the secret');
    const payload = decodeJwt(token);
    const iat = Math.floor(START.getTime() / 1000);
    assert.equal(payload.sub, '42', 'sub is the user id as a string (RFC 7519 4.1.2)');
    assert.equal(payload.sid, SUBJECT.sessionId);
    assert.equal(payload.scope, 'me');
    assert.equal(payload.iss, 'gatehouse');
    assert.equal(payload.aud, 'gatehouse');
    assert.equal(payload.iat, iat);
    assert.equal(payload.exp, iat + 1800);
    assert.equal(typeof payload.jti, 'string');
  });

  it('issues a token that jose verifies on its own with the bare secret', async () => {
    // An independent check of our node:crypto signature: jose with nothing but the secret.
    const { tokens } = setup();
    const { token } = await tokens.issue(SUBJECT);
    const { payload, protectedHeader } = await jwtVerify(token, SECRET_BYTES, {
      algorithms: ['HS256'],
      typ: 'at+jwt',
      issuer: 'gatehouse',
      audience: 'gatehouse',
      currentDate: START,
    });
    assert.equal(protectedHeader.alg, 'HS256');
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, '42');
    const otherSecret = new TextEncoder().encode(`${SECRET}-other`);
    await assert.rejects(jwtVerify(token, otherSecret, { currentDate: START }));
  });

  it('gives every token its own jti', async () => {
    const { tokens } = setup();
    const first = await tokens.verify((await tokens.issue(SUBJECT)).token);
    const second = await tokens.verify((await tokens.issue(SUBJECT)).token);
    assert.notEqual(first.tokenId, second.tokenId);
  });

  it('accepts a token crafted with exactly the claims Gatehouse writes', async () => {
    // Guards the attack tests below: each changes one thing of a token that would pass.
    const { tokens } = setup();
    const token = await craft(validClaims(), { alg: 'HS256', typ: 'at+jwt' });
    assert.equal((await tokens.verify(token)).userId, 42);
  });
});

describe('AccessTokens: expiry', () => {
  it('still verifies past exp within the clock tolerance', async () => {
    const { clock, tokens } = setup();
    const { token } = await tokens.issue(SUBJECT);
    clock.advance(SETTINGS.ttlSeconds + SETTINGS.clockToleranceSeconds - 1);
    assert.equal((await tokens.verify(token)).userId, 42);
  });

  it('answers token_expired past exp plus the clock tolerance', async () => {
    const { clock, tokens } = setup();
    const { token } = await tokens.issue(SUBJECT);
    clock.advance(SETTINGS.ttlSeconds + SETTINGS.clockToleranceSeconds + 1);
    await assertRefused(tokens, token, 'token_expired');
  });

  it('answers invalid_token, not token_expired, for an expired token it did not sign', async () => {
    const { clock, tokens } = setup();
    const token = await craft(
      validClaims(),
      { alg: 'HS256', typ: 'at+jwt' },
      new TextEncoder().encode('x'.repeat(44)),
    );
    clock.advance(SETTINGS.ttlSeconds + 3600);
    await assertRefused(tokens, token, 'invalid_token');
  });
});

describe('AccessTokens: issued-at and not-before (RFC 7519 4.1.5, 4.1.6)', () => {
  const later = (seconds: number) => {
    const claims = validClaims();
    const iat = Number(claims.iat) + seconds;
    return { ...claims, iat, exp: iat + SETTINGS.ttlSeconds };
  };

  it('refuses a correctly signed token issued in the future beyond the clock tolerance', async () => {
    const { tokens } = setup();
    for (const ahead of [SETTINGS.clockToleranceSeconds + 1, 3600, 86_400 * 365]) {
      const token = await craft(later(ahead), { alg: 'HS256', typ: 'at+jwt' });
      await assertRefused(tokens, token, 'invalid_token');
    }
  });

  it("accepts a token issued up to the clock tolerance ahead (another host's skew)", async () => {
    const { tokens } = setup();
    const token = await craft(later(SETTINGS.clockToleranceSeconds), {
      alg: 'HS256',
      typ: 'at+jwt',
    });
    assert.equal((await tokens.verify(token)).userId, 42);
  });

  it('refuses a token not valid before a time beyond the clock tolerance', async () => {
    const { tokens } = setup();
    const nbf = Number(validClaims().iat) + SETTINGS.clockToleranceSeconds + 1;
    const token = await craft({ ...validClaims(), nbf }, { alg: 'HS256', typ: 'at+jwt' });
    await assertRefused(tokens, token, 'invalid_token');
  });
});

describe('AccessTokens: attacks answer invalid_token', () => {
  it('refuses an unsigned alg:none token', async () => {
    const { tokens } = setup();
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${b64url({ alg, typ: 'at+jwt' })}.${b64url(validClaims())}.`;
      await assertRefused(tokens, unsigned);
    }
  });

  it('refuses HS512 and HS384 tokens made with the right secret', async () => {
    const { tokens } = setup();
    for (const alg of ['HS512', 'HS384']) {
      await assertRefused(tokens, await craft(validClaims(), { alg, typ: 'at+jwt' }));
    }
  });

  it('refuses an RS256 token signed with some RSA key', async () => {
    const { tokens } = setup();
    const { privateKey } = await generateKeyPair('RS256');
    await assertRefused(
      tokens,
      await craft(validClaims(), { alg: 'RS256', typ: 'at+jwt' }, privateKey),
    );
  });

  it('refuses HS256 signed with an RSA public key PEM as the secret (key confusion)', async () => {
    const { tokens } = setup();
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    const token = await craft(
      validClaims(),
      { alg: 'HS256', typ: 'at+jwt' },
      new TextEncoder().encode(pem),
    );
    await assertRefused(tokens, token);
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const { tokens } = setup();
    const { token } = await tokens.issue(SUBJECT);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
    for (const tampered of [
      { ...claims, sub: '1' },
      { ...claims, scope: 'me admin' },
      { ...claims, exp: claims.exp + 86_400 },
    ]) {
      await assertRefused(tokens, `${header}.${b64url(tampered)}.${signature}`);
    }
  });

  it('refuses a token whose signature was changed', async () => {
    const { tokens } = setup();
    const { token } = await tokens.issue(SUBJECT);
    const [header, payload, signature = ''] = token.split('.');
    const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    await assertRefused(tokens, `${header}.${payload}.${flipped}`);
    await assertRefused(tokens, `${header}.${payload}.`);
  });

  it('refuses the same signature spelled another way: padding, standard base64 (RFC 7515 2)', async () => {
    const { tokens } = setup();
    const { token } = await tokens.issue(SUBJECT);
    const [header = '', payload = '', signature = ''] = token.split('.');
    const standard = (part: string) => Buffer.from(part, 'base64url').toString('base64');
    for (const respelled of [
      `${header}.${payload}.${signature}=`,
      `${header}.${payload}.${signature}==`,
      `${header}=.${payload}.${signature}`,
      `${header}.${payload}.${standard(signature)}`,
      `${header}.${standard(payload)}.${signature}`,
      ` ${token}`,
    ]) {
      if (respelled !== token) await assertRefused(tokens, respelled);
    }
    assert.equal((await tokens.verify(token)).userId, SUBJECT.userId);
  });

  it('refuses a token signed with a foreign secret', async () => {
    const { tokens } = setup();
    const foreign = new TextEncoder().encode('another-service-secret-another-service-secret');
    await assertRefused(
      tokens,
      await craft(validClaims(), { alg: 'HS256', typ: 'at+jwt' }, foreign),
    );
  });

  it('refuses a token issued by another Gatehouse with other settings but the same secret', async () => {
    const { tokens } = setup();
    const other = setup({ ...SETTINGS, issuer: 'staging', audience: 'staging-api' }).tokens;
    await assertRefused(tokens, (await other.issue(SUBJECT)).token);
  });

  it('refuses a wrong or missing issuer', async () => {
    const { tokens } = setup();
    const { iss: _iss, ...noIssuer } = validClaims();
    await assertRefused(
      tokens,
      await craft({ ...validClaims(), iss: 'evil' }, { alg: 'HS256', typ: 'at+jwt' }),
    );
    await assertRefused(tokens, await craft(noIssuer, { alg: 'HS256', typ: 'at+jwt' }));
  });

  it('refuses a wrong or missing audience', async () => {
    const { tokens } = setup();
    const { aud: _aud, ...noAudience } = validClaims();
    await assertRefused(
      tokens,
      await craft({ ...validClaims(), aud: 'other-api' }, { alg: 'HS256', typ: 'at+jwt' }),
    );
    await assertRefused(tokens, await craft(noAudience, { alg: 'HS256', typ: 'at+jwt' }));
  });

  it('refuses a token with no typ header or another typ (RFC 8725 3.11)', async () => {
    const { tokens } = setup();
    await assertRefused(tokens, await craft(validClaims(), { alg: 'HS256' }));
    for (const typ of ['JWT', 'id_token+jwt', 'refresh+jwt', '']) {
      await assertRefused(tokens, await craft(validClaims(), { alg: 'HS256', typ }));
    }
  });

  it('refuses a token without a session id', async () => {
    const { tokens } = setup();
    const { sid: _sid, ...noSession } = validClaims();
    await assertRefused(tokens, await craft(noSession, { alg: 'HS256', typ: 'at+jwt' }));
    await assertRefused(
      tokens,
      await craft({ ...validClaims(), sid: 7 }, { alg: 'HS256', typ: 'at+jwt' }),
    );
  });

  it('refuses a token without sub, jti, iat or exp', async () => {
    const { tokens } = setup();
    for (const claim of ['sub', 'jti', 'iat', 'exp']) {
      const claims = validClaims();
      delete claims[claim];
      await assertRefused(tokens, await craft(claims, { alg: 'HS256', typ: 'at+jwt' }));
    }
  });

  it('refuses a subject that is not a user id', async () => {
    const { tokens } = setup();
    for (const sub of ['admin', '0', '-1', '1.5', '', '99999999999999999999']) {
      await assertRefused(
        tokens,
        await craft({ ...validClaims(), sub }, { alg: 'HS256', typ: 'at+jwt' }),
      );
    }
  });

  it(`refuses a correctly signed token longer than ${MAX_ACCESS_TOKEN_LENGTH} characters`, async () => {
    const { tokens } = setup();
    const padded = await craft(
      { ...validClaims(), pad: 'x'.repeat(4000) },
      { alg: 'HS256', typ: 'at+jwt' },
    );
    assert.ok(padded.length > MAX_ACCESS_TOKEN_LENGTH);
    await assertRefused(tokens, padded);
    const short = await craft(
      { ...validClaims(), pad: 'x'.repeat(100) },
      { alg: 'HS256', typ: 'at+jwt' },
    );
    assert.equal((await tokens.verify(short)).userId, 42, 'the padding alone is harmless');
  });

  it('refuses garbage strings', async () => {
    const { tokens } = setup();
    const { token } = await tokens.issue(SUBJECT);
    for (const garbage of [
      '',
      ' ',
      'garbage',
      'a.b.c',
      '..',
      '...',
      `Bearer ${token}`,
      `${token}.`,
      token.split('.').slice(0, 2).join('.'),
      `${b64url({ alg: 'HS256', typ: 'at+jwt' })}.not-json.${token.split('.')[2]}`,
      'eyJhbGciOiJIUzI1NiJ9',
      '\u0000.\u0000.\u0000',
      '🔑.🔑.🔑',
      'x'.repeat(MAX_ACCESS_TOKEN_LENGTH + 1),
    ]) {
      await assertRefused(tokens, garbage);
    }
  });
});

describe('AccessTokens: tokens that already verified', () => {
  it('still expires a token it verified before, at exp plus the tolerance', async () => {
    const { tokens, clock } = setup();
    const { token } = await tokens.issue(SUBJECT);
    assert.equal((await tokens.verify(token)).userId, SUBJECT.userId);
    clock.advance(SETTINGS.ttlSeconds + SETTINGS.clockToleranceSeconds - 1);
    assert.equal((await tokens.verify(token)).userId, SUBJECT.userId, 'within the tolerance');
    clock.advance(1);
    await assert.rejects(
      tokens.verify(token),
      (e) => e instanceof GatehouseError && e.code === 'token_expired',
    );
    await assert.rejects(
      tokens.verify(token),
      (e) => e instanceof GatehouseError && e.code === 'token_expired',
    );
  });

  it('does not let a tampered copy of a verified token through', async () => {
    const { tokens } = setup();
    const { token } = await tokens.issue(SUBJECT);
    await tokens.verify(token);
    const [header, payload, signature] = token.split('.');
    const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    forged.sub = '1';
    const tampered = `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`;
    await assert.rejects(
      tokens.verify(tampered),
      (e) => e instanceof GatehouseError && e.code === 'invalid_token',
    );
    assert.equal((await tokens.verify(token)).userId, SUBJECT.userId);
  });
});

describe('AccessTokens.verifiedBefore: the synchronous answer for a token seen before', () => {
  it('knows only tokens that verified, and answers them with the same claims', async () => {
    const { tokens, clock } = setup();
    const { token } = await tokens.issue(SUBJECT);
    assert.equal(tokens.verifiedBefore(token, clock.now()), undefined, 'never verified yet');
    const claims = await tokens.verify(token);
    assert.deepEqual(tokens.verifiedBefore(token, clock.now()), claims);
    const forged = `${token.slice(0, -8)}AAAAAAAA`;
    await assert.rejects(tokens.verify(forged));
    assert.equal(tokens.verifiedBefore(forged, clock.now()), undefined, 'a failure is not kept');
  });

  it('expires at exp plus the tolerance of the `now` it is given, as verify does', async () => {
    const { tokens, clock } = setup();
    const { token } = await tokens.issue(SUBJECT);
    await tokens.verify(token);
    const lastGood = new Date(
      START.getTime() + (SETTINGS.ttlSeconds + SETTINGS.clockToleranceSeconds - 1) * 1000,
    );
    assert.equal(tokens.verifiedBefore(token, lastGood)?.userId, SUBJECT.userId);
    assert.throws(
      () => tokens.verifiedBefore(token, new Date(lastGood.getTime() + 1000)),
      (e) => e instanceof GatehouseError && e.code === 'token_expired',
    );
    // Forgotten once expired: verify checks it afresh (and finds it expired).
    assert.equal(tokens.verifiedBefore(token, clock.now()), undefined);
    clock.advance(SETTINGS.ttlSeconds + SETTINGS.clockToleranceSeconds);
    await assertRefused(tokens, token, 'token_expired');
  });
});

describe('HmacKeys.forged: a forged signature is rejected before jose runs', () => {
  it('flags a wrong signature and passes the one its key makes, so it never rejects our tokens', async () => {
    const keys = new HmacKeys(createSecretKey(Buffer.from(SECRET, 'utf8')));
    const { token } = await setup().tokens.issue(SUBJECT);
    const at = token.lastIndexOf('.');
    const [input, signature] = [token.slice(0, at), token.slice(at + 1)];
    assert.equal(keys.forged(input, signature), false);
    assert.equal(keys.forged(input, `${signature.slice(0, -4)}AAAA`), true);
    assert.equal(keys.forged(`${input}x`, signature), true);
    assert.equal(keys.forged(input, signature.slice(0, 10)), true);
    assert.equal(keys.forged(input, ''), true);
  });

  it('answers the same shared invalid_token for every forged token, without a cause', async () => {
    const { tokens } = setup();
    const { token } = await tokens.issue(SUBJECT);
    const forged = `${token.slice(0, -8)}AAAAAAAA`;
    const first = await tokens.verify(forged).catch((error: unknown) => error);
    const second = await tokens.verify(`${token.slice(0, -8)}BBBBBBBB`).catch((e: unknown) => e);
    assert.ok(first instanceof GatehouseError);
    assert.equal(first.code, 'invalid_token');
    assert.equal(first.cause, undefined);
    assert.equal(second, first);
  });
});
