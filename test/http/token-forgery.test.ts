import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import { before, describe, it } from 'node:test';
import {
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  SignJWT,
  type JWK,
  type JWTPayload,
} from 'jose';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { registerAndLogin } from '../support/client.ts';
import { testAppPerSuite, type TestApp } from '../support/test-app.ts';
import { TEST_JWT_SECRET } from '../support/test-config.ts';

// API.md 7 "Bad input", RFC 8725 2.1-2.8: every forgery answers 401 "Could not validate
// credentials" with an invalid_token challenge, never a 500. Each forged token carries the
// claims of a genuine, live token, so accepting any of them would answer 200.
const sqlite = STORAGE_BACKENDS.find((b) => b.name === 'sqlite')!;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function assertRefused(t: TestApp, token: string, what: string): Promise<void> {
  const response = await t.app.inject({
    method: 'GET',
    url: '/users/me/',
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(response.statusCode, 401, `${what}: ${response.statusCode} ${response.body}`);
  assert.equal(
    (response.json() as { detail: string }).detail,
    'Could not validate credentials',
    what,
  );
  assert.match(String(response.headers['www-authenticate']), /^Bearer\b/, what);
}

/** Signs `payload` under any header with any key: the attacker's toolbox. */
function forge(
  payload: JWTPayload,
  header: Record<string, unknown> & { alg: string },
  key: KeyObject | Uint8Array,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

/** The attacker's site, counting every request: jku and x5u must never be fetched. */
async function attackerSite(
  jwks: unknown,
): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((_request, response) => {
    hits += 1;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

for (const alg of ['EdDSA', 'ES256', 'RS256'] as const) {
  describe(`forged tokens under ${alg}`, () => {
    const suite = testAppPerSuite(sqlite, { GATEHOUSE_JWT_ALG: alg });
    let genuine: string;
    let claims: JWTPayload;
    let ourJwk: JWK;
    let ourKid: string;
    const attacker = {
      EdDSA: generateKeyPairSync('ed25519'),
      ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
      RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    };

    before(async () => {
      ({ accessToken: genuine } = await registerAndLogin(suite.t.app));
      claims = decodeJwt(genuine);
      ourKid = String(decodeProtectedHeader(genuine).kid);
      const jwks = await suite.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      ourJwk = (jwks.json() as { keys: JWK[] }).keys[0]!;
    });

    it('accepts the genuine token (the forgeries below differ only in what they forge)', async () => {
      const response = await suite.t.app.inject({
        method: 'GET',
        url: '/users/me/',
        headers: { authorization: `Bearer ${genuine}` },
      });
      assert.equal(response.statusCode, 200);
    });

    it('refuses alg none, with and without our kid', async () => {
      for (const header of [
        { alg: 'none', typ: 'at+jwt' },
        { alg: 'none', typ: 'at+jwt', kid: ourKid },
        { alg: 'None', typ: 'at+jwt', kid: ourKid },
      ]) {
        await assertRefused(suite.t, `${b64(header)}.${b64(claims)}.`, JSON.stringify(header));
      }
    });

    it('refuses HS256 keyed with our public key (JWK JSON, PEM, DER, raw bytes) or the old HS256 secret', async () => {
      const publicKey = createPublicKey({ key: ourJwk as never, format: 'jwk' });
      const secrets: [string, Uint8Array][] = [
        ['the JWK JSON', new TextEncoder().encode(JSON.stringify(ourJwk))],
        [
          'the SPKI PEM',
          new TextEncoder().encode(publicKey.export({ type: 'spki', format: 'pem' }) as string),
        ],
        ['the SPKI DER', publicKey.export({ type: 'spki', format: 'der' })],
        ['the old HS256 secret', new TextEncoder().encode(TEST_JWT_SECRET)],
      ];
      if (ourJwk.x) secrets.push(['the raw x', Buffer.from(ourJwk.x, 'base64url')]);
      if (ourJwk.n) secrets.push(['the raw n', Buffer.from(ourJwk.n, 'base64url')]);
      for (const [name, secret] of secrets) {
        for (const header of [
          { alg: 'HS256', typ: 'at+jwt', kid: ourKid },
          { alg: 'HS256', typ: 'at+jwt' },
        ]) {
          await assertRefused(suite.t, await forge(claims, header, secret), `HS256 with ${name}`);
        }
      }
    });

    it('refuses another algorithm naming our kid (alg that does not match the key type)', async () => {
      for (const other of ['EdDSA', 'ES256', 'RS256'] as const) {
        const header = { alg: other, typ: 'at+jwt', kid: ourKid };
        await assertRefused(
          suite.t,
          await forge(claims, header, attacker[other].privateKey),
          `${other} header`,
        );
      }
      // Our algorithm and kid, the attacker's key.
      await assertRefused(
        suite.t,
        await forge(claims, { alg, typ: 'at+jwt', kid: ourKid }, attacker[alg].privateKey),
        'a foreign key under our kid',
      );
    });

    it('refuses kid path tricks, odd kid types and a 10 KB kid', async () => {
      for (const kid of [
        '../../etc/passwd',
        '/dev/null',
        "' or 1=1 --",
        '',
        ourKid + '\u0000',
        42,
        null,
        { a: 1 },
        [ourKid],
        'k'.repeat(10_240),
      ]) {
        const header = { alg, typ: 'at+jwt', kid };
        await assertRefused(
          suite.t,
          await forge(claims, header, attacker[alg].privateKey),
          `kid ${JSON.stringify(kid).slice(0, 40)}`,
        );
      }
    });

    it('never follows jku or x5u, and never trusts an embedded jwk or x5c', async () => {
      const attackerJwk = {
        ...(await exportJWK(createPublicKey(attacker[alg].privateKey))),
        alg,
        use: 'sig',
      };
      const attackerKid = await calculateJwkThumbprint(attackerJwk);
      const site = await attackerSite({ keys: [{ ...attackerJwk, kid: attackerKid }] });
      try {
        for (const kid of [attackerKid, ourKid]) {
          const headers = [
            { jku: `${site.url}/jwks.json` },
            { x5u: `${site.url}/cert.pem` },
            { jwk: attackerJwk },
            { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] },
          ];
          for (const extra of headers) {
            const header = { alg, typ: 'at+jwt', kid, ...extra };
            await assertRefused(
              suite.t,
              await forge(claims, header, attacker[alg].privateKey),
              Object.keys(extra)[0]!,
            );
          }
        }
        assert.equal(site.hits(), 0, 'the attacker site was never fetched');
      } finally {
        await site.close();
      }
    });

    it('refuses malformed JWKs in the header and malformed base64 or JSON anywhere', async () => {
      const [header = '', payload = '', signature = ''] = genuine.split('.');
      const malformed = [
        `${b64({ alg, typ: 'at+jwt', kid: ourKid, jwk: { kty: 'OKP' } })}.${payload}.${signature}`,
        `${b64({ alg, typ: 'at+jwt', kid: ourKid, jwk: 'not a jwk' })}.${payload}.${signature}`,
        `${header}!.${payload}.${signature}`,
        `${header}.${payload}.${signature}==`,
        `${header}.${payload}.${signature.replace(/[-_]/g, '+')}/`,
        `${header}.${payload.slice(0, -3)}*.${signature}`,
        `${header}.${payload}`,
        `${header}.${payload}.${signature}.${signature}`,
        `${b64([alg])}.${payload}.${signature}`,
        `${Buffer.from('{"alg":').toString('base64url')}.${payload}.${signature}`,
        `${b64({ alg, typ: 'at+jwt', kid: ourKid, crit: ['exp'] })}.${payload}.${signature}`,
        `${b64({ alg, typ: 'at+jwt', kid: ourKid, b64: false, crit: ['b64'] })}.${payload}.${signature}`,
        `${header}.${payload}.`,
        '..',
      ];
      for (const [i, token] of malformed.entries()) await assertRefused(suite.t, token, `#${i}`);
    });
  });
}

describe('forged tokens under HS256', () => {
  const suite = testAppPerSuite(sqlite);

  it('refuses EdDSA, ES256 and RS256 tokens, whatever key they name or embed', async () => {
    const { accessToken } = await registerAndLogin(suite.t.app);
    const claims = decodeJwt(accessToken);
    const kid = String(decodeProtectedHeader(accessToken).kid);
    for (const [alg, pair] of [
      ['EdDSA', generateKeyPairSync('ed25519')],
      ['ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' })],
      ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ] as const) {
      const jwk = await exportJWK(pair.publicKey);
      for (const header of [
        { alg, typ: 'at+jwt', kid },
        { alg, typ: 'at+jwt', jwk },
      ]) {
        await assertRefused(suite.t, await forge(claims, header, pair.privateKey), alg);
      }
    }
    // The right secret under another kid is not ours either.
    const other = { alg: 'HS256', typ: 'at+jwt', kid: 'some-other-kid' };
    await assertRefused(
      suite.t,
      await forge(claims, other, new TextEncoder().encode(TEST_JWT_SECRET)),
      'other kid',
    );
  });
});
