import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JWK,
} from 'jose';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { registerAndLogin, uniqueEmail } from '../support/client.ts';
import { linkFrom } from '../support/outbox-mail.ts';
import { startTestServer, testAppPerSuite } from '../support/test-app.ts';

// API.md 7: what each algorithm publishes, and that a verifier holding only the JWKS accepts
// our tokens. A private (`d`, `p`, `q`, `dp`, `dq`, `qi`) or symmetric (`k`) member never appears.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const EXPECTED = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519', members: ['alg', 'crv', 'kid', 'kty', 'use', 'x'] },
  ES256: { kty: 'EC', crv: 'P-256', members: ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'] },
  RS256: { kty: 'RSA', crv: undefined, members: ['alg', 'e', 'kid', 'kty', 'n', 'use'] },
} as const;

for (const backend of STORAGE_BACKENDS) {
  for (const alg of ['EdDSA', 'ES256', 'RS256'] as const) {
    describe(`JWKS and tokens under ${alg} (${backend.name})`, { skip: backend.skip }, () => {
      const suite = testAppPerSuite(backend, { GATEHOUSE_JWT_ALG: alg });

      it('publishes exactly the public active key, cacheable, without auth', async () => {
        const response = await suite.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
        assert.equal(response.statusCode, 200);
        assert.match(String(response.headers['cache-control']), /^public, max-age=\d+$/);
        const { keys } = response.json() as { keys: JWK[] };
        assert.equal(keys.length, 1);
        const [key] = keys as [JWK];
        assert.deepEqual(Object.keys(key).sort(), EXPECTED[alg].members);
        assert.equal(key.kty, EXPECTED[alg].kty);
        assert.equal(key.crv, EXPECTED[alg].crv);
        assert.equal(key.alg, alg);
        assert.equal(key.use, 'sig');
        assert.match(String(key.kid), /^[A-Za-z0-9_-]{43}$/);
        for (const member of PRIVATE_MEMBERS) assert.equal(member in key, false, member);
        if (alg === 'RS256') {
          assert.ok(Buffer.from(String(key.n), 'base64url').length * 8 >= 2048, 'RSA >= 2048 bits');
        }
        const slash = await suite.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json/' });
        assert.deepEqual(slash.json(), response.json());
      });

      it('signs tokens with the published key, which jose verifies with the JWKS alone', async () => {
        const { app, config } = suite.t;
        const { accessToken } = await registerAndLogin(app);
        const header = decodeProtectedHeader(accessToken);
        const { keys } = (
          await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
        ).json() as {
          keys: JWK[];
        };
        assert.deepEqual(header, { alg, typ: 'at+jwt', kid: keys[0]?.kid });
        const { payload } = await jwtVerify(accessToken, createLocalJWKSet({ keys }), {
          algorithms: [alg],
          issuer: config.tokens.issuer,
          audience: config.tokens.audience,
          currentDate: suite.clock.now(),
        });
        assert.equal(payload.iss, 'http://127.0.0.1:8000');
        const me = await app.inject({
          method: 'GET',
          url: '/users/me/',
          headers: { authorization: `Bearer ${accessToken}` },
        });
        assert.equal(me.statusCode, 200, me.body);
      });
    });
  }

  describe(`JWKS under HS256 (${backend.name})`, { skip: backend.skip }, () => {
    const suite = testAppPerSuite(backend);

    it('publishes no key: a shared secret is never published', async () => {
      const response = await suite.t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { keys: [] });
      const { accessToken } = await registerAndLogin(suite.t.app);
      assert.equal(decodeProtectedHeader(accessToken).alg, 'HS256');
    });
  });
}

describe('a jose createRemoteJWKSet verifier over HTTP', () => {
  it('verifies our EdDSA token from our JWKS URL, found through the RFC 8414 metadata', async () => {
    const server = await startTestServer({ env: { GATEHOUSE_JWT_ALG: 'EdDSA' } });
    try {
      const { accessToken } = await registerAndLogin(server.app);
      const metadata = (await (
        await fetch(`${server.url}/.well-known/oauth-authorization-server`)
      ).json()) as {
        jwks_uri: string;
        issuer: string;
      };
      // The metadata's URLs name the configured public address (HOST:PORT); the test listens
      // on another port, so only the path is taken from it.
      const jwks = createRemoteJWKSet(new URL(new URL(metadata.jwks_uri).pathname, server.url));
      const { payload } = await jwtVerify(accessToken, jwks, {
        algorithms: ['EdDSA'],
        issuer: metadata.issuer,
        audience: 'gatehouse',
        currentDate: server.clock.now(),
      });
      assert.match(String(payload.sub), /^\d+$/);
    } finally {
      await server.close();
    }
  });
});

describe('RFC 8414 metadata', () => {
  it('names every endpoint as an absolute URL under GATEHOUSE_PUBLIC_URL', async () => {
    const server = await startTestServer({
      env: { GATEHOUSE_PUBLIC_URL: 'https://auth.example.com', GATEHOUSE_JWT_ALG: 'ES256' },
    });
    try {
      for (const path of [
        '/.well-known/oauth-authorization-server',
        '/.well-known/oauth-authorization-server/',
      ]) {
        const response = await server.app.inject({ method: 'GET', url: path });
        assert.equal(response.statusCode, 200);
        assert.match(String(response.headers['cache-control']), /^public, max-age=\d+$/);
        assert.deepEqual(response.json(), {
          issuer: 'https://auth.example.com',
          token_endpoint: 'https://auth.example.com/token',
          jwks_uri: 'https://auth.example.com/.well-known/jwks.json',
          revocation_endpoint: 'https://auth.example.com/revoke',
          introspection_endpoint: 'https://auth.example.com/introspect',
          grant_types_supported: [
            'password',
            'refresh_token',
            'urn:gatehouse:params:oauth:grant-type:mfa-otp',
            'urn:gatehouse:params:oauth:grant-type:webauthn',
            'urn:gatehouse:params:oauth:grant-type:mfa-webauthn',
          ],
          response_types_supported: [],
          scopes_supported: ['me', 'admin'],
          token_endpoint_auth_methods_supported: ['none'],
          revocation_endpoint_auth_methods_supported: ['none'],
          introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
          service_documentation: 'https://auth.example.com/docs',
        });
      }
      // iss in tokens equals the metadata's issuer (API.md 7).
      const { accessToken } = await registerAndLogin(server.app);
      const [, payload = ''] = accessToken.split('.');
      assert.equal(
        JSON.parse(Buffer.from(payload, 'base64url').toString()).iss,
        'https://auth.example.com',
      );
    } finally {
      await server.close();
    }
  });

  it('names one public base URL when listening on every address without GATEHOUSE_PUBLIC_URL', async () => {
    // A wildcard listen address (0.0.0.0) is no address a client can open: the issuer, the
    // token's iss, the endpoints, mail links and the passkeys' relying party all name localhost.
    const server = await startTestServer({
      env: { HOST: '0.0.0.0', PORT: '8123', GATEHOUSE_JWT_ALG: 'EdDSA' },
    });
    try {
      const base = 'http://localhost:8123';
      const metadata = (
        await server.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })
      ).json() as { issuer: string; token_endpoint: string; jwks_uri: string };
      assert.equal(metadata.issuer, base);
      assert.equal(metadata.token_endpoint, `${base}/token`);
      assert.equal(metadata.jwks_uri, `${base}/.well-known/jwks.json`);

      const email = uniqueEmail('wildcard');
      const { accessToken } = await registerAndLogin(server.app, email);
      const [, payload = ''] = accessToken.split('.');
      assert.equal(JSON.parse(Buffer.from(payload, 'base64url').toString()).iss, metadata.issuer);

      const verify = await server.app.inject({
        method: 'POST',
        url: '/users/me/verify-email',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      assert.equal(verify.statusCode, 202, verify.body);
      const { link } = await linkFrom(server.storage, email, 'verify_email');
      assert.ok(link.startsWith(`${base}/#/`), link);

      const options = await server.app.inject({
        method: 'POST',
        url: '/webauthn/authentication/options',
      });
      assert.equal(options.statusCode, 200, options.body);
      assert.equal((options.json() as { options: { rpId: string } }).options.rpId, 'localhost');
    } finally {
      await server.close();
    }
  });

  it('is listed in the OpenAPI document, without security', async () => {
    const server = await startTestServer();
    try {
      const doc = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        paths: Record<string, { get?: { security?: unknown } }>;
      };
      for (const path of ['/.well-known/jwks.json', '/.well-known/oauth-authorization-server']) {
        assert.ok(doc.paths[path]?.get, path);
        assert.deepEqual(doc.paths[path]?.get?.security, [], `${path}: explicitly no security`);
      }
    } finally {
      await server.close();
    }
  });
});
