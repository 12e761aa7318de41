import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import {
  createVerifier,
  ResourceServerError,
  type ResourceServerErrorCode,
} from '../../src/resource-server/index.ts';
import { basicAuthorization } from '../../src/resource-server/introspection.ts';
import { metadataUrl } from '../../src/resource-server/discovery.ts';
import {
  CLIENT,
  signingKey,
  startIssuerWithKey,
  startLocalIssuer,
  type LocalIssuer,
  type SigningKey,
} from './local-issuer.ts';

async function rejectsWith(
  promise: Promise<unknown>,
  code: ResourceServerErrorCode,
): Promise<ResourceServerError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, but it resolved`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ResourceServerError, `not a ResourceServerError: ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

describe('createVerifier against a local issuer', () => {
  let issuer: LocalIssuer;
  let key: SigningKey;

  before(async () => {
    ({ issuer, key } = await startIssuerWithKey());
  });
  after(() => issuer.close());

  const verifier = () => createVerifier({ issuer: issuer.url, audience: issuer.audience });

  it('returns typed claims of a valid token', async () => {
    const token = await issuer.sign(key, { scope: 'me admin', sub: '7', sid: 's-7' });
    const claims = await verifier().verify(token);
    assert.equal(claims.sub, '7');
    assert.equal(claims.userId, 7);
    assert.deepEqual(claims.scope, ['me', 'admin']);
    assert.equal(claims.sessionId, 's-7');
    assert.equal(typeof claims.tokenId, 'string');
    assert.ok(claims.expiresAt > claims.issuedAt);
    assert.equal(claims.raw.iss, issuer.url);
  });

  it('verifies ES256 and RS256 tokens too, and can be pinned to one algorithm', async () => {
    const es = await signingKey('es', 'ES256');
    const rs = await signingKey('rs', 'RS256');
    issuer.published = [key, es, rs];
    const v = verifier();
    assert.equal((await v.verify(await issuer.sign(es))).sub, '42');
    assert.equal((await v.verify(await issuer.sign(rs))).sub, '42');
    const pinned = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      algorithms: ['EdDSA'],
    });
    await rejectsWith(pinned.verify(await issuer.sign(rs)), 'algorithm_not_allowed');
    issuer.published = [key];
  });

  it('refuses HS256 and none, also when configured', async () => {
    const hs = await new SignJWT({ sub: '1' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'key-1' })
      .sign(new TextEncoder().encode('a-secret-a-secret-a-secret-a-secret'));
    await rejectsWith(verifier().verify(hs), 'algorithm_not_allowed');
    const none = new UnsecuredJWT({ sub: '1', iss: issuer.url, aud: issuer.audience }).encode();
    await rejectsWith(verifier().verify(none), 'algorithm_not_allowed');
    assert.throws(
      () => createVerifier({ issuer: issuer.url, audience: 'a', algorithms: ['HS256' as 'EdDSA'] }),
      /algorithms must be some of EdDSA, ES256, RS256/,
    );
  });

  it('says why a token is refused', async () => {
    const v = verifier();
    const now = Math.floor(Date.now() / 1000);
    await rejectsWith(
      v.verify(await issuer.sign(key, { iat: now - 700, exp: now - 100 })),
      'token_expired',
    );
    await rejectsWith(v.verify(await issuer.sign(key, { aud: 'another-api' })), 'wrong_audience');
    await rejectsWith(
      v.verify(await issuer.sign(key, { iss: 'https://evil.example' })),
      'wrong_issuer',
    );
    await rejectsWith(v.verify(await issuer.sign(key, {}, { typ: 'JWT' })), 'wrong_token_type');
    await rejectsWith(v.verify(await issuer.sign(key, { iat: now + 3600 })), 'token_not_yet_valid');
    await rejectsWith(v.verify(await issuer.sign(key, { sid: undefined })), 'malformed_token');
    await rejectsWith(v.verify('not-a-jwt'), 'malformed_token');
    await rejectsWith(v.verify('x'.repeat(9000)), 'malformed_token');
    const good = await issuer.sign(key);
    const [h, p, s] = good.split('.') as [string, string, string];
    const otherPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: '1' }),
    ).toString('base64url');
    await rejectsWith(v.verify(`${h}.${otherPayload}.${s}`), 'invalid_signature');
  });

  it('refuses a token from a foreign key, whether its kid is unknown or borrowed', async () => {
    const foreign = await signingKey('foreign');
    await rejectsWith(verifier().verify(await issuer.sign(foreign)), 'unknown_key');
    const impostor = { ...foreign, kid: key.kid };
    await rejectsWith(verifier().verify(await issuer.sign(impostor)), 'invalid_signature');
  });

  it('re-reads the JWKS for an unknown kid (rotation), at most once per cooldown', async () => {
    const v = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      jwksCooldownSeconds: 0,
    });
    await v.verify(await issuer.sign(key));
    const next = await signingKey('key-2');
    issuer.published = [next, key];
    assert.equal((await v.verify(await issuer.sign(next))).sub, '42');
    assert.equal((await v.verify(await issuer.sign(key))).sub, '42');

    issuer.published = [key];
  });

  it('waits out the cooldown for a kid it has just missed, and re-reads once for many', async () => {
    const v = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      jwksCooldownSeconds: 1,
    });
    await v.verify(await issuer.sign(key));
    const fetched = issuer.hits.jwks;
    // Rotated right after our read: jose alone would refuse the new kid for the cooldown.
    const third = await signingKey('key-3');
    issuer.published = [third, key];
    assert.equal((await v.verify(await issuer.sign(third))).sub, '42');
    assert.equal(issuer.hits.jwks, fetched + 1);
    // Ten tokens with made-up kids at once: one more read, and each is refused.
    const junk = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => issuer.sign({ ...third, kid: `junk-${i}` })),
    );
    const results = await Promise.allSettled(junk.map((token) => v.verify(token)));
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.equal((result.reason as ResourceServerError).code, 'unknown_key');
    }
    assert.equal(issuer.hits.jwks, fetched + 2);
    issuer.published = [key];
  });

  it('checks the metadata names the configured issuer exactly (RFC 8414 3.3)', async () => {
    const liar = await startLocalIssuer({ metadataIssuer: 'https://gatehouse.example' });
    try {
      const v = createVerifier({ issuer: liar.url, audience: 'gatehouse' });
      const error = await rejectsWith(v.verify(await issuer.sign(key)), 'discovery_failed');
      assert.match(error.message, /names another issuer/);
      assert.equal(error.status, 503);
    } finally {
      await liar.close();
    }
  });

  it('fails with discovery_failed when the issuer is down, and recovers when it is back', async () => {
    const down = await startLocalIssuer();
    const url = down.url;
    down.override.metadata = { status: 500, body: '{}' };
    const v = createVerifier({ issuer: url, audience: 'gatehouse' });
    const k = await signingKey('k');
    down.published = [k];
    const token = await down.sign(k);
    await rejectsWith(v.verify(token), 'discovery_failed');
    delete down.override.metadata;
    assert.equal((await v.verify(token)).sub, '42');
    await down.close();
    const unreachable = createVerifier({ issuer: url, audience: 'gatehouse' });
    const error = await rejectsWith(unreachable.verify(token), 'discovery_failed');
    assert.match(error.message, /request failed/);
  });

  it('answers jwks_unavailable when the key set cannot be read', async () => {
    issuer.override.jwks = { status: 502, body: 'bad gateway' };
    try {
      await rejectsWith(verifier().verify(await issuer.sign(key)), 'jwks_unavailable');
    } finally {
      delete issuer.override.jwks;
    }
  });

  it('builds the RFC 8414 metadata URL from an issuer with a path', () => {
    assert.equal(
      metadataUrl('https://a.example').href,
      'https://a.example/.well-known/oauth-authorization-server',
    );
    assert.equal(
      metadataUrl('https://a.example/t1').href,
      'https://a.example/.well-known/oauth-authorization-server/t1',
    );
  });
});

describe('createVerifier with introspect', () => {
  let issuer: LocalIssuer;
  let key: SigningKey;
  before(async () => {
    ({ issuer, key } = await startIssuerWithKey());
  });
  after(() => issuer.close());

  it('form-urlencodes the client credentials before base64 (RFC 6749 2.3.1)', async () => {
    const v = createVerifier({ issuer: issuer.url, audience: issuer.audience, introspect: CLIENT });
    await v.verify(await issuer.sign(key));
    const decoded = Buffer.from(
      issuer.lastIntrospectionAuth!.replace(/^Basic /, ''),
      'base64',
    ).toString();
    assert.equal(decoded, 'api+client%3A1:s%C3%A9cret%3Awith%2Fodd+chars');
    assert.equal(basicAuthorization('a', 'b'), `Basic ${Buffer.from('a:b').toString('base64')}`);
  });

  it('refuses a revoked token at once with cacheSeconds 0', async () => {
    const v = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      introspect: { ...CLIENT, cacheSeconds: 0 },
    });
    const token = await issuer.sign(key);
    await v.verify(token);
    issuer.revoked.add(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti);
    await rejectsWith(v.verify(token), 'token_revoked');
  });

  it('reuses an answer for cacheSeconds', async () => {
    let now = Date.now();
    const v = createVerifier({
      issuer: issuer.url,
      audience: issuer.audience,
      introspect: { ...CLIENT, cacheSeconds: 30 },
      now: () => new Date(now),
    });
    const token = await issuer.sign(key);
    const before = issuer.hits.introspect;
    await v.verify(token);
    await v.verify(token);
    assert.equal(issuer.hits.introspect, before + 1);
    issuer.revoked.add(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti);
    await v.verify(token); // still cached as active
    now += 31_000;
    await rejectsWith(v.verify(token), 'token_revoked');
  });

  it('fails closed when the introspection endpoint fails', async () => {
    const v = createVerifier({ issuer: issuer.url, audience: issuer.audience, introspect: CLIENT });
    const token = await issuer.sign(key);
    for (const [status, body] of [
      [500, '{}'],
      [401, '{"error":"invalid_client"}'],
      [200, 'not json'],
      [200, '{"active":"yes"}'],
    ] as const) {
      issuer.override.introspect = { status, body };
      const error = await rejectsWith(v.verify(token), 'introspection_failed');
      assert.equal(error.status, 503);
    }
    delete issuer.override.introspect;
    assert.equal((await v.verify(token)).sub, '42');
  });
});
