import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGatehouse, type RunningProcess } from '../support/gatehouse-process.ts';
import { accessTokenAt, bearer, registerAt, uniqueEmail } from '../support/client.ts';
import { startHttpStub, type HttpStub } from '../support/http-stub.ts';
import { b64url, craft, jwtParts } from '../support/jws.ts';

/**
 * Black-box: a real Gatehouse process signing with EdDSA (its default without a shared
 * secret), attacked over HTTP with tokens forged the ways RFC 8725 and the JWT CVEs describe.
 * Every one must be 401 "Could not validate credentials" on /users/me/, never a 500; the
 * published metadata and JWKS must shrug off junk.
 */

const hmac = (secret: string | Buffer) => (input: Buffer) =>
  createHmac('sha256', secret).update(input).digest();

describe('forged tokens and junk against a real EdDSA Gatehouse', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-rs-bad-input-'));
  const attacker = generateKeyPairSync('ed25519');
  const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'attacker' };
  const attackerSign = (input: Buffer) => sign(null, input, attacker.privateKey);
  let gatehouse: RunningProcess;
  let attackerServer: HttpStub;
  let attackerUrl: string;
  const attackerHits: string[] = [];
  let token: string;
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  let publicJwk: Record<string, unknown>;

  const me = (accessToken: string) =>
    fetch(`${gatehouse.url}/users/me/`, { headers: bearer(accessToken) });

  async function assertRejected(name: string, bearer: string): Promise<void> {
    const response = await me(bearer);
    const text = await response.text();
    assert.equal(response.status, 401, `${name}: ${text}`);
    // `code` may come beside `detail` (API.md conventions); the detail is the contract.
    assert.equal(
      (JSON.parse(text) as { detail: unknown }).detail,
      'Could not validate credentials',
      name,
    );
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer\b/, name);
  }

  before(async () => {
    // The attacker's key server: a token naming it (jku, x5u) must never make Gatehouse call.
    attackerServer = await startHttpStub((request, response) => {
      attackerHits.push(`${request.method} ${request.url}`);
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [attackerJwk] }));
    });
    attackerUrl = attackerServer.url;

    gatehouse = await startGatehouse({
      GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
      GATEHOUSE_RATE_LIMIT_TOKEN: '0',
      GATEHOUSE_RATE_LIMIT_REGISTER: '0',
    });
    const email = uniqueEmail('rs-bad-input');
    await registerAt(gatehouse.url, email);
    token = await accessTokenAt(gatehouse.url, email);
    ({ header, claims } = jwtParts(token));
    const jwks = (await (await fetch(`${gatehouse.url}/.well-known/jwks.json`)).json()) as {
      keys: Record<string, unknown>[];
    };
    const found = jwks.keys.find((key) => key.kid === header.kid);
    assert.ok(found, 'the JWKS lists the kid of a fresh token');
    publicJwk = found;
  });

  after(async () => {
    await gatehouse?.stop();
    await attackerServer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the genuine token (the control), signed with EdDSA under a kid', async () => {
    assert.equal(header.alg, 'EdDSA');
    assert.equal(typeof header.kid, 'string');
    assert.equal((await me(token)).status, 200);
  });

  it('rejects alg none, in every spelling, with and without a signature', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await assertRejected(`alg ${alg}`, craft({ ...header, alg }, claims));
      await assertRejected(`alg ${alg} + sig`, `${craft({ ...header, alg }, claims)}c2ln`);
    }
    const { alg: _alg, ...noAlg } = header;
    await assertRejected('no alg', craft(noAlg, claims, attackerSign));
  });

  it("rejects HS256 keyed with the public key's bytes, JWK JSON or PEM (RFC 8725 3.1)", async () => {
    const x = Buffer.from(String(publicJwk.x), 'base64url');
    const pem = createPublicKey({ key: publicJwk as never, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const secrets: [string, string | Buffer][] = [
      ['raw x', x],
      ['x as text', String(publicJwk.x)],
      ['JWK JSON', JSON.stringify(publicJwk)],
      ['PEM', pem],
    ];
    for (const [name, secret] of secrets) {
      for (const alg of ['HS256', 'HS512']) {
        await assertRejected(`${alg} ${name}`, craft({ ...header, alg }, claims, hmac(secret)));
      }
    }
  });

  it('rejects an RS256 or ES256 header on the EdDSA kid, and EdDSA by a foreign key', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await assertRejected(
      'RS256 on the EdDSA kid',
      craft({ ...header, alg: 'RS256' }, claims, (input) => sign('sha256', input, rsa.privateKey)),
    );
    // The genuine EdDSA signature under another alg name.
    const [, , signature] = token.split('.');
    const [h, c] = craft({ ...header, alg: 'ES256' }, claims).split('.');
    await assertRejected('ES256 with the EdDSA signature', `${h}.${c}.${signature}`);
    await assertRejected('a foreign Ed25519 key', craft(header, claims, attackerSign));
  });

  it('rejects kids with path tricks, of 10 KB, or of the wrong type', async () => {
    const kids: unknown[] = [
      '../../x',
      '../../../../etc/passwd',
      `${String(header.kid)}/../${String(header.kid)}`,
      `${String(header.kid)}\u0000`,
      "' or 1=1 --",
      'k'.repeat(10_240),
      123,
      null,
      [header.kid],
      { kid: header.kid },
    ];
    for (const kid of kids) {
      const name = `kid ${JSON.stringify(kid).slice(0, 40)}`;
      await assertRejected(name, craft({ ...header, kid }, claims, attackerSign));
    }
  });

  it('never fetches a key a token points at (jku, x5u) or trusts one it embeds (jwk)', async () => {
    const headers: Record<string, unknown>[] = [
      { ...header, jku: `${attackerUrl}/jwks.json`, kid: 'attacker' },
      { ...header, x5u: `${attackerUrl}/cert.pem`, kid: 'attacker' },
      { ...header, jwk: attackerJwk, kid: 'attacker' },
      { ...header, jwk: attackerJwk },
      { ...header, jku: `${attackerUrl}/jwks.json` },
      { alg: 'EdDSA', typ: 'at+jwt', jwk: attackerJwk },
    ];
    for (const [index, forged] of headers.entries()) {
      await assertRejected(`header ${index}`, craft(forged, claims, attackerSign));
    }
    assert.deepEqual(attackerHits, [], 'Gatehouse contacted the attacker');
  });

  it('rejects malformed compact serializations', async () => {
    const [h, c, s] = token.split('.') as [string, string, string];
    const cases: [string, string][] = [
      ['5 segments', `${h}.${c}.${s}.${s}.${s}`],
      ['4 segments', `${h}.${c}.${s}.`],
      ['2 segments', `${h}.${c}`],
      ['empty segments', '..'],
      ['bad base64 header', `${h}!!.${c}.${s}`],
      ['bad base64 payload', `${h}.${c}%%.${s}`],
      ['bad base64 signature', `${h}.${c}.${s}$`],
      ['padded base64', `${h}==.${c}.${s}`],
      ['standard base64', `${h}.${c.replaceAll('-', '+').replaceAll('_', '/')}+/.${s}`],
      ['header not JSON', `${b64url('{"alg":')}.${c}.${s}`],
      ['header an array', `${b64url('["EdDSA"]')}.${c}.${s}`],
      ['header null', `${b64url('null')}.${c}.${s}`],
      ['payload not JSON', `${h}.${b64url('not json')}.${s}`],
      ['payload an array', craft(header, [] as never, attackerSign)],
      ['a JWE-shaped token', `${b64url('{"alg":"dir","enc":"A256GCM"}')}..${c}.${c}.${s}`],
      ['unicode', `${h}.${c}.${s}\u00e9`],
      ['8 KB of segments', '.'.repeat(8_000)],
    ];
    for (const [name, bearer] of cases) await assertRejected(name, bearer);
  });

  it('rejects a crit header it does not understand, and b64:false (RFC 7515 4.1.11, RFC 7797)', async () => {
    await assertRejected('crit', craft({ ...header, crit: ['exp'], exp: 1 }, claims, attackerSign));
    await assertRejected('b64 false', craft({ ...header, b64: false, crit: ['b64'] }, claims));
  });

  it('serves the JWKS and metadata despite junk query strings, never a private key', async () => {
    const queries = [
      '?a=%ZZ',
      '?kid=1&kid=2',
      '?__proto__[x]=1',
      '?constructor=1',
      `?q=${'a'.repeat(4000)}`,
      '?%00=%00',
      '?&&&==',
    ];
    for (const path of ['/.well-known/jwks.json', '/.well-known/oauth-authorization-server']) {
      for (const query of queries) {
        const response = await fetch(`${gatehouse.url}${path}${query}`);
        const text = await response.text();
        assert.ok(response.status < 500, `${path}${query}: ${response.status} ${text}`);
        if (response.status === 200 && path.endsWith('jwks.json')) {
          const body = JSON.parse(text) as { keys: Record<string, unknown>[] };
          for (const key of body.keys) {
            for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
              assert.equal(key[secret], undefined, `${path}${query}: a JWK with ${secret}`);
            }
          }
        }
      }
    }
  });

  it('answers other methods on the JWKS and metadata with 404 or 405, never a 500', async () => {
    for (const path of ['/.well-known/jwks.json', '/.well-known/oauth-authorization-server']) {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const response = await fetch(`${gatehouse.url}${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: '{"keys":[]}',
        });
        await response.arrayBuffer();
        assert.ok([404, 405].includes(response.status), `${method} ${path}: ${response.status}`);
      }
      const options = await fetch(`${gatehouse.url}${path}`, { method: 'OPTIONS' });
      await options.arrayBuffer();
      assert.ok(options.status < 500, `OPTIONS ${path}: ${options.status}`);
    }
  });

  it('answers an oversized token, and near-miss paths of the JWKS, with a 4xx or 200, never a 500', async () => {
    for (const size of [12_000, 40_000]) {
      const response = await me('a.b.'.padEnd(size, 'c'));
      await response.arrayBuffer();
      assert.ok(response.status >= 400 && response.status < 500, `${size}: ${response.status}`);
    }
    for (const path of [
      '/.well-known/jwks.json/',
      '/.well-known/JWKS.json',
      '/.well-known/jwks.json%00',
      '/.well-known/../.well-known/jwks.json',
      '/.well-known/oauth-authorization-server/',
      '/.well-known/oauth-authorization-server/extra',
      '/.well-known/openid-configuration',
    ]) {
      const response = await fetch(`${gatehouse.url}${path}`);
      await response.arrayBuffer();
      assert.ok(response.status < 500, `${path}: ${response.status}`);
    }
    const head = await fetch(`${gatehouse.url}/.well-known/jwks.json`, { method: 'HEAD' });
    assert.ok(head.status < 500, `HEAD: ${head.status}`);
  });

  it('is still up and still accepts the genuine token after all of it', async () => {
    assert.equal((await me(token)).status, 200);
  });
});
