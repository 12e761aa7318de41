import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, createHmac, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/free-port.ts';
import {
  ROOT,
  cleanEnv,
  startGatehouse,
  startProcess,
  type RunningProcess,
} from '../support/gatehouse-process.ts';
import { runGatehouse } from '../support/cli-run.ts';
import { STORAGE_BACKENDS, type StorageBackend } from '../support/storage-backends.ts';
import {
  accessTokenAt,
  bearer,
  registerAt,
  STRONG_PASSWORD,
  uniqueEmail,
} from '../support/client.ts';
import { startHttpStub, type HttpStub } from '../support/http-stub.ts';
import { b64url, craft, jwtParts } from '../support/jws.ts';

/**
 * examples/fastapi: a real Gatehouse (EdDSA, its default without a shared secret)
 * and the example FastAPI app under Debian's Python, talking over HTTP. The app knows only
 * Gatehouse's URL; everything else it learns from the RFC 8414 metadata and the JWKS.
 */

// Debian's interpreter: the packages are python3-fastapi, python3-uvicorn and python3-jwt.
const PYTHON = '/usr/bin/python3';
const EXAMPLE_DIR = join(ROOT, 'examples', 'fastapi');
// The app's clock tolerance, small so that the expiry check waits about two seconds.
const LEEWAY_SECONDS = 1;

function pythonSkip(): string | false {
  const probe = spawnSync(PYTHON, ['-c', 'import fastapi, uvicorn, jwt'], { encoding: 'utf8' });
  if (probe.status === 0) return false;
  return `${PYTHON} cannot import fastapi, uvicorn and jwt: apt-get install python3-fastapi python3-uvicorn python3-jwt (.ci/run does)`;
}

const missingPython = pythonSkip();

if (missingPython && process.env.GATEHOUSE_TEST_REQUIRE_SERVICES) {
  // CI sets GATEHOUSE_TEST_REQUIRE_SERVICES: there a skipped example would be a green run that
  // tested less.
  describe('the FastAPI example', () => {
    it('needs Debian Python packages', () => {
      assert.fail(missingPython);
    });
  });
}

/** The example app under uvicorn, trusting the issuer `env` names (its GATEHOUSE_* settings). */
async function startExample(env: Record<string, string>): Promise<RunningProcess> {
  const port = await freePort();
  return startProcess({
    command: PYTHON,
    args: ['-m', 'uvicorn', 'app:app', '--host', '127.0.0.1', '--port', String(port)],
    port,
    readyPath: '/public',
    cwd: EXAMPLE_DIR,
    env: cleanEnv({ ...env, PYTHONDONTWRITEBYTECODE: '1' }),
  });
}

for (const backend of STORAGE_BACKENDS) {
  describe(
    `the FastAPI example against Gatehouse on ${backend.name}`,
    {
      skip: backend.skip || missingPython,
    },
    () => {
      exampleSuite(backend);
    },
  );
}

function exampleSuite(backend: StorageBackend): void {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-fastapi-'));
  const userEmail = uniqueEmail('fastapi-user');
  const adminEmail = uniqueEmail('fastapi-admin');
  const running: RunningProcess[] = [];
  let env: Record<string, string>;
  let gatehouse: RunningProcess;
  let api: RunningProcess;
  let issuer: string;
  let userToken: string;
  let adminToken: string;
  let shortToken: string;

  const get = (path: string, token?: string) =>
    fetch(`${api.url}${path}`, {
      headers: token === undefined ? {} : bearer(token),
    });

  /** 401 with the Bearer challenge and `detail`; the body, for more checks. */
  async function assertRejected(token: string, detail = 'Could not validate credentials') {
    const response = await get('/me', token);
    const body = (await response.json()) as { detail: string };
    assert.equal(response.status, 401, JSON.stringify(body));
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer\b/);
    assert.equal(body.detail, detail);
  }

  async function publishedKids(): Promise<string[]> {
    const response = await fetch(`${gatehouse.url}/.well-known/jwks.json`);
    assert.equal(response.status, 200);
    return ((await response.json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
  }

  before(async () => {
    const databaseUrl =
      backend.name === 'sqlite' ? `sqlite:${join(dir, 'gatehouse.db')}` : await backend.freshUrl();
    env = { GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_RATE_LIMIT_TOKEN: '0' };
    gatehouse = await startGatehouse(env);
    running.push(gatehouse);
    env.GATEHOUSE_PUBLIC_URL = gatehouse.url;

    const metadata = await fetch(`${gatehouse.url}/.well-known/oauth-authorization-server`);
    assert.equal(metadata.status, 200);
    issuer = ((await metadata.json()) as { issuer: string }).issuer;

    await registerAt(gatehouse.url, userEmail);
    const created = await runGatehouse(
      env,
      ['users', 'create', '--email', adminEmail, '--password-stdin', '--role', 'admin'],
      `${STRONG_PASSWORD}\n`,
    );
    assert.equal(created.code, 0, created.stderr);

    // A genuine token that expires in a second: from a second instance of the same
    // deployment (same store, so the same keys and issuer) with a one-second lifetime.
    const shortLived = await startGatehouse({ ...env, GATEHOUSE_ACCESS_TOKEN_TTL: '1' });
    running.push(shortLived);
    shortToken = await accessTokenAt(shortLived.url, userEmail);
    await shortLived.stop();

    api = await startExample({
      GATEHOUSE_ISSUER: issuer,
      GATEHOUSE_AUDIENCE: 'gatehouse',
      GATEHOUSE_LEEWAY: String(LEEWAY_SECONDS),
    });
    running.push(api);

    userToken = await accessTokenAt(gatehouse.url, userEmail);
    adminToken = await accessTokenAt(gatehouse.url, adminEmail);
  });

  after(async () => {
    await Promise.all(running.map((process) => process.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs with EdDSA and a kid, under the issuer the metadata names', () => {
    const { header, claims } = jwtParts(userToken);
    assert.equal(header.alg, 'EdDSA');
    assert.equal(header.typ, 'at+jwt');
    assert.equal(typeof header.kid, 'string');
    assert.equal(claims.iss, issuer);
  });

  it('answers /public without a token, and 401 "Not authenticated" without one on /me', async () => {
    assert.equal((await get('/public')).status, 200);
    const response = await get('/me');
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await response.json(), { detail: 'Not authenticated' });
  });

  it("accepts a user's token on /me, with its sub and scope", async () => {
    const response = await get('/me', userToken);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { sub: jwtParts(userToken).claims.sub, scope: 'me' });
  });

  it("lets an admin's token into /admin, and answers 403 to a user's", async () => {
    const admin = await get('/admin', adminToken);
    assert.equal(admin.status, 200, await admin.clone().text());
    const user = await get('/admin', userToken);
    assert.equal(user.status, 403);
    assert.deepEqual(await user.json(), { detail: 'Not enough permissions' });
  });

  it('rejects a tampered token: a claim changed, or one character of the payload flipped', async () => {
    const [header, payload, signature] = userToken.split('.');
    const claims = { ...jwtParts(userToken).claims, scope: 'me admin' };
    await assertRejected(`${header}.${b64url(JSON.stringify(claims))}.${signature}`);
    const flipped = payload!.slice(0, 10) + (payload![10] === 'A' ? 'B' : 'A') + payload!.slice(11);
    await assertRejected(`${header}.${flipped}.${signature}`);
  });

  it('rejects a token signed by a foreign Ed25519 key under the genuine kid', async () => {
    const { header, claims } = jwtParts(userToken);
    const foreign = generateKeyPairSync('ed25519');
    await assertRejected(craft(header, claims, (input) => sign(null, input, foreign.privateKey)));
  });

  it('rejects alg none, and HS256 keyed with the public JWK (RFC 8725 3.1)', async () => {
    const { header, claims } = jwtParts(userToken);
    await assertRejected(craft({ ...header, alg: 'none' }, claims));
    await assertRejected(`${craft({ ...header, alg: 'none' }, claims)}AAAA`);
    const jwks = (await (await fetch(`${gatehouse.url}/.well-known/jwks.json`)).json()) as {
      keys: Record<string, unknown>[];
    };
    const publicJwk = jwks.keys.find((key) => key.kid === header.kid);
    assert.ok(publicJwk, 'the JWKS lists the kid of the token');
    for (const secret of [JSON.stringify(publicJwk), String(publicJwk.x)]) {
      const hs256 = craft({ ...header, alg: 'HS256' }, claims, (input) =>
        createHmac('sha256', secret).update(input).digest(),
      );
      await assertRejected(hs256);
    }
  });

  it('rejects a genuine token once it has expired, saying so (RFC 6750 3)', async () => {
    const exp = jwtParts(shortToken).claims.exp as number;
    const wait = (exp + LEEWAY_SECONDS + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const response = await get('/me', shortToken);
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.match(((await response.json()) as { detail: string }).detail, /expired/i);
  });

  it('after `gatehouse keys rotate`: a token of the new key passes, and one of the old key', async () => {
    const kidsBefore = await publishedKids();
    const oldKid = jwtParts(userToken).header.kid;
    assert.ok(kidsBefore.includes(oldKid as string));
    const rotated = await runGatehouse(env, ['keys', 'rotate']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const newKid = rotated.stdout.trim();
    assert.notEqual(newKid, oldKid);

    // API.md 7: the new key is active at once on every instance, so the running one (which
    // did not rotate: the CLI did, in another process) signs the very next token with it.
    const fresh = await accessTokenAt(gatehouse.url, userEmail);
    assert.equal(jwtParts(fresh).header.kid, newKid, 'signed with the new key');
    assert.deepEqual((await publishedKids()).sort(), [...kidsBefore, newKid].sort());

    const response = await get('/me', fresh);
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal((await get('/me', userToken)).status, 200, 'a token of the previous key lives on');
    const onGatehouse = await fetch(`${gatehouse.url}/users/me/`, { headers: bearer(fresh) });
    assert.equal(onGatehouse.status, 200, 'Gatehouse itself accepts it too');
  });

  it('rejects a token whose kid no JWKS has', async () => {
    // Last: an unknown kid makes the app re-read the JWKS, which it then does not do again
    // for a few seconds (the cool-down a flood of random kids meets).
    const { header, claims } = jwtParts(userToken);
    const foreign = generateKeyPairSync('ed25519');
    const token = craft({ ...header, kid: 'no-such-key' }, claims, (input) =>
      sign(null, input, foreign.privateKey),
    );
    await assertRejected(token);
  });
}

/**
 * What the app checks after the signature (typ, aud, iss, exp, claim types) cannot be reached
 * with tokens forged against Gatehouse's key, so here the app trusts an issuer this test runs
 * (metadata and JWKS over real HTTP) whose Ed25519 key the test holds.
 */
describe(
  'the FastAPI example: its checks, against an issuer whose key the test holds',
  {
    skip: missingPython,
  },
  () => {
    const key = generateKeyPairSync('ed25519');
    const kid = 'test-key-1';
    let issuer: string;
    let issuerServer: HttpStub;
    let jwksReads = 0;
    let metadataIssuer: string;
    let api: RunningProcess;

    const now = () => Math.floor(Date.now() / 1000);
    const header = { alg: 'EdDSA', typ: 'at+jwt', kid };
    const claims = () => ({
      sub: '7',
      scope: 'me',
      iss: issuer,
      aud: 'gatehouse',
      iat: now(),
      exp: now() + 300,
    });
    const signed = (h: Record<string, unknown>, c: Record<string, unknown>) =>
      craft(h, c, (input) => sign(null, input, key.privateKey));
    const get = (path: string, token: string) =>
      fetch(`${api.url}${path}`, { headers: bearer(token) });

    before(async () => {
      const jwk = { ...key.publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'EdDSA' };
      issuerServer = await startHttpStub((request, response) => {
        response.setHeader('content-type', 'application/json');
        if (request.url === '/.well-known/oauth-authorization-server') {
          response.end(JSON.stringify({ issuer: metadataIssuer, jwks_uri: `${issuer}/jwks` }));
        } else if (request.url === '/jwks') {
          jwksReads += 1;
          response.end(JSON.stringify({ keys: [jwk] }));
        } else {
          response.statusCode = 404;
          response.end('{}');
        }
      });
      issuer = issuerServer.url;
      metadataIssuer = issuer;
      api = await startExample({ GATEHOUSE_ISSUER: issuer });
    });

    after(async () => {
      await api?.stop();
      await issuerServer?.close();
    });

    it('accepts a well-formed token of that issuer (the control for the cases below)', async () => {
      const response = await get('/me', signed(header, claims()));
      assert.equal(response.status, 200, await response.clone().text());
      assert.deepEqual(await response.json(), { sub: '7', scope: 'me' });
    });

    it('rejects a signed token of the wrong typ, aud or iss, or without exp, iat or sub', async () => {
      const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
        ['typ JWT', { ...header, typ: 'JWT' }, claims()],
        ['no typ', { alg: 'EdDSA', kid }, claims()],
        ['another aud', header, { ...claims(), aud: 'another-api' }],
        ['another iss', header, { ...claims(), iss: 'http://evil.example' }],
        ['no exp', header, { ...claims(), exp: undefined }],
        ['no iat', header, { ...claims(), iat: undefined }],
        ['no sub', header, { ...claims(), sub: undefined }],
        ['iat in the future', header, { ...claims(), iat: now() + 3600 }],
        ['iat a list', header, { ...claims(), iat: [1] }],
        ['exp a string', header, { ...claims(), exp: 'soon' }],
        ['alg ES256 for an Ed25519 key', { ...header, alg: 'ES256' }, claims()],
      ];
      for (const [name, h, c] of cases) {
        const response = await get('/me', signed(h, c));
        assert.equal(response.status, 401, `${name}: ${await response.clone().text()}`);
        assert.deepEqual(await response.json(), { detail: 'Could not validate credentials' }, name);
      }
    });

    it('treats a scope that is not a string as no scope: 403 on /admin, never a 500', async () => {
      const response = await get('/admin', signed(header, { ...claims(), scope: ['admin'] }));
      assert.equal(response.status, 403);
    });

    it('re-reads the JWKS at most once for a flood of unknown kids', async () => {
      const before = jwksReads;
      for (let i = 0; i < 5; i += 1) {
        const response = await get('/me', signed({ ...header, kid: `random-${i}` }, claims()));
        assert.equal(response.status, 401);
      }
      assert.ok(jwksReads - before <= 1, `${jwksReads - before} JWKS reads for 5 unknown kids`);
    });
  },
);

describe(
  'the FastAPI example: an issuer whose metadata names another issuer',
  {
    skip: missingPython,
  },
  () => {
    const key = generateKeyPairSync('ed25519');
    let issuer: string;
    let issuerServer: HttpStub;
    let api: RunningProcess;
    let jwksReads = 0;

    before(async () => {
      const jwk = { ...key.publicKey.export({ format: 'jwk' }), kid: 'k', alg: 'EdDSA' };
      issuerServer = await startHttpStub((request, response) => {
        response.setHeader('content-type', 'application/json');
        if (request.url === '/jwks') {
          jwksReads += 1;
          response.end(JSON.stringify({ keys: [jwk] }));
        } else {
          // RFC 8414 3.3: metadata whose issuer differs from the one asked about is not used,
          // however usable the JWKS it names.
          response.end(
            JSON.stringify({ issuer: 'http://evil.example', jwks_uri: `${issuer}/jwks` }),
          );
        }
      });
      issuer = issuerServer.url;
      api = await startExample({ GATEHOUSE_ISSUER: issuer });
    });

    after(async () => {
      await api?.stop();
      await issuerServer?.close();
    });

    it('answers 503 (the issuer is misconfigured, not the token wrong) and reads no key', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = craft(
        { alg: 'EdDSA', typ: 'at+jwt', kid: 'k' },
        { sub: '1', iss: issuer, aud: 'gatehouse', iat: now, exp: now + 300 },
        (input) => sign(null, input, key.privateKey),
      );
      const response = await fetch(`${api.url}/me`, { headers: bearer(token) });
      assert.equal(response.status, 503, await response.clone().text());
      assert.deepEqual(await response.json(), { detail: 'Cannot reach the token issuer' });
      assert.equal(jwksReads, 0);
    });
  },
);

for (const alg of ['ES256', 'RS256']) {
  describe(
    `the FastAPI example against Gatehouse signing with ${alg}`,
    {
      skip: missingPython,
    },
    () => {
      const dir = mkdtempSync(join(tmpdir(), `gatehouse-fastapi-${alg}-`));
      const email = uniqueEmail(`fastapi-${alg}`);
      const running: RunningProcess[] = [];
      let api: RunningProcess;
      let token: string;

      before(async () => {
        const gatehouse = await startGatehouse({
          GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
          GATEHOUSE_JWT_ALG: alg,
          GATEHOUSE_RATE_LIMIT_TOKEN: '0',
        });
        running.push(gatehouse);
        await registerAt(gatehouse.url, email);
        token = await accessTokenAt(gatehouse.url, email);
        api = await startExample({ GATEHOUSE_ISSUER: gatehouse.url });
        running.push(api);
      });

      after(async () => {
        await Promise.all(running.map((process) => process.stop()));
        rmSync(dir, { recursive: true, force: true });
      });

      it(`accepts a genuine ${alg} token, and refuses it relabelled EdDSA or HS256`, async () => {
        const me = (accessToken: string) =>
          fetch(`${api.url}/me`, { headers: bearer(accessToken) });
        const { header, claims } = jwtParts(token);
        assert.equal(header.alg, alg);
        const response = await me(token);
        assert.equal(response.status, 200, await response.clone().text());
        const signature = token.split('.')[2]!;
        for (const relabel of ['EdDSA', alg === 'ES256' ? 'RS256' : 'ES256', 'HS256']) {
          const [h, c] = craft({ ...header, alg: relabel }, claims).split('.');
          assert.equal((await me(`${h}.${c}.${signature}`)).status, 401, relabel);
        }
      });
    },
  );
}
