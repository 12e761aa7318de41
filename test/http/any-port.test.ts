import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../../src/serve.ts';
import { claimsOf, registerAndLogin } from '../support/client.ts';
import { testConfig } from '../support/test-config.ts';

// PORT=0 asks the system for a free port. Without GATEHOUSE_PUBLIC_URL, every absolute URL
// Gatehouse hands out is built on where it listens (config/public-base-url.ts), so it must name
// the port it got, never port 0, which no client can open.

describe('PORT=0 without GATEHOUSE_PUBLIC_URL: the server names the port it bound', () => {
  let server: RunningServer;
  let url: string;
  before(async () => {
    server = await startServer(
      testConfig({ HOST: '127.0.0.1', PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent' }),
    );
    url = server.url;
  });
  after(() => server.close());

  it('listens on a port other than 0', () => {
    assert.notEqual(new URL(url).port, '0');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('gives the bound port in the RFC 8414 metadata', async () => {
    const response = await fetch(`${url}/.well-known/oauth-authorization-server`);
    const metadata = (await response.json()) as Record<string, unknown>;
    assert.equal(metadata.issuer, url);
    assert.equal(metadata.token_endpoint, `${url}/token`);
    assert.equal(metadata.jwks_uri, `${url}/.well-known/jwks.json`);
  });

  it('gives the bound port as the OpenAPI server', async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { servers: unknown };
    assert.deepEqual(doc.servers, [{ url }]);
  });

  it('signs access tokens with the bound port in `iss`', async () => {
    const { accessToken } = await registerAndLogin(server.app);
    assert.equal(claimsOf(accessToken).iss, url);
  });
});

describe('PORT=0 with GATEHOUSE_JWT_ISSUER set: the issuer stays as set', () => {
  it('signs with the configured issuer and gives it in the metadata', async () => {
    const issuer = 'https://issuer.example.com';
    const server = await startServer(
      testConfig({
        HOST: '127.0.0.1',
        PORT: '0',
        GATEHOUSE_JWT_ISSUER: issuer,
        GATEHOUSE_LOG_LEVEL: 'silent',
      }),
    );
    try {
      const response = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
      const metadata = (await response.json()) as Record<string, unknown>;
      assert.equal(metadata.issuer, issuer);
      assert.equal(metadata.token_endpoint, `${server.url}/token`);
      const { accessToken } = await registerAndLogin(server.app);
      assert.equal(claimsOf(accessToken).iss, issuer);
    } finally {
      await server.close();
    }
  });
});
