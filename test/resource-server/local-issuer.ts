// A small stand-in for Gatehouse's discovery endpoints (RFC 8414 metadata, a JWKS, RFC 7662
// introspection) on a real socket, for the verifier's unit tests: it lets a test publish any
// key, sign any token and answer anything. The end-to-end suites run a real Gatehouse.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

export interface SigningKey {
  kid: string;
  alg: 'EdDSA' | 'ES256' | 'RS256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function signingKey(
  kid: string,
  alg: SigningKey['alg'] = 'EdDSA',
): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return {
    kid,
    alg,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
  };
}

export interface LocalIssuer {
  url: string;
  audience: string;
  /** The keys the JWKS publishes; tests change it to rotate. */
  published: SigningKey[];
  /** jti values /introspect answers inactive for. */
  revoked: Set<string>;
  /** Set to override an endpoint's answer: status and body. */
  override: Partial<Record<'metadata' | 'jwks' | 'introspect', { status: number; body: string }>>;
  /** How many times each endpoint was asked. */
  hits: Record<'metadata' | 'jwks' | 'introspect', number>;
  /** The Authorization header of the last introspection request. */
  lastIntrospectionAuth: string | undefined;
  sign(key: SigningKey, claims?: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export const CLIENT = { clientId: 'api client:1', clientSecret: 'sécret:with/odd chars' };

export async function startLocalIssuer(
  options: { metadataIssuer?: string } = {},
): Promise<LocalIssuer> {
  const issuer: LocalIssuer = {
    url: '',
    audience: 'gatehouse',
    published: [],
    revoked: new Set(),
    override: {},
    hits: { metadata: 0, jwks: 0, introspect: 0 },
    lastIntrospectionAuth: undefined,
    async sign(key, claims = {}, header = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        sub: '42',
        sid: 'session-1',
        scope: 'me',
        jti: crypto.randomUUID(),
        iss: issuer.url,
        aud: issuer.audience,
        iat: now,
        exp: now + 600,
        ...claims,
      })
        .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header })
        .sign(key.privateKey);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    };
    const endpoint =
      req.url === '/.well-known/oauth-authorization-server'
        ? 'metadata'
        : req.url === '/.well-known/jwks.json'
          ? 'jwks'
          : req.url === '/introspect' && req.method === 'POST'
            ? 'introspect'
            : undefined;
    if (!endpoint) return send(404, '{"detail":"Not Found"}');
    issuer.hits[endpoint] += 1;
    const override = issuer.override[endpoint];
    if (override) return send(override.status, override.body);
    if (endpoint === 'metadata') {
      return send(
        200,
        JSON.stringify({
          issuer: options.metadataIssuer ?? issuer.url,
          jwks_uri: `${issuer.url}/.well-known/jwks.json`,
          introspection_endpoint: `${issuer.url}/introspect`,
        }),
      );
    }
    if (endpoint === 'jwks') {
      return send(200, JSON.stringify({ keys: issuer.published.map((k) => k.publicJwk) }));
    }
    let form = '';
    req.on('data', (chunk: Buffer) => (form += chunk.toString()));
    req.on('end', () => {
      issuer.lastIntrospectionAuth = req.headers.authorization;
      const token = new URLSearchParams(form).get('token') ?? '';
      const payload = JSON.parse(
        Buffer.from(token.split('.')[1] ?? '', 'base64url').toString() || '{}',
      );
      send(200, JSON.stringify({ active: !issuer.revoked.has(String(payload.jti)) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return issuer;
}

/** A local issuer publishing one fresh key (`kid`), the usual start of a suite. */
export async function startIssuerWithKey(
  kid = 'key-1',
): Promise<{ issuer: LocalIssuer; key: SigningKey }> {
  const issuer = await startLocalIssuer();
  const key = await signingKey(kid);
  issuer.published = [key];
  return { issuer, key };
}
