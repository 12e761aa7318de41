// Two small services protected by the SDK, each on a real socket: one Fastify, one Express,
// with the same routes, so every end-to-end case runs against both.
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import {
  expressAuth,
  fastifyAuth,
  type AuthOptions,
  type Verifier,
} from '../../src/resource-server/index.ts';

export interface ResourceServer {
  name: 'fastify' | 'express';
  url: string;
  close(): Promise<void>;
}

export async function startFastify(
  verifier: Verifier,
  options: AuthOptions = {},
): Promise<ResourceServer> {
  const app = Fastify({ logger: false });
  await app.register(fastifyAuth, { verifier, ...options });
  app.get('/me', async (request) => ({
    sub: request.auth?.sub ?? null,
    userId: request.auth?.userId ?? null,
    scope: request.auth?.scope ?? null,
    sessionId: request.auth?.sessionId ?? null,
  }));
  app.get('/admin', { preHandler: app.requireScope('admin') }, async (request) => ({
    admin: request.auth?.sub,
  }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { name: 'fastify', url, close: () => app.close() };
}

export async function startExpress(
  verifier: Verifier,
  options: AuthOptions = {},
): Promise<ResourceServer> {
  const app = express();
  const auth = expressAuth({ verifier, ...options });
  app.use(auth);
  app.get('/me', (req, res) => {
    res.json({
      sub: req.auth?.sub ?? null,
      userId: req.auth?.userId ?? null,
      scope: req.auth?.scope ?? null,
      sessionId: req.auth?.sessionId ?? null,
    });
  });
  app.get('/admin', auth.requireScope('admin'), (req, res) => {
    res.json({ admin: req.auth?.sub });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    name: 'express',
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startBoth(
  verifier: Verifier,
  options: AuthOptions = {},
): Promise<ResourceServer[]> {
  return [await startFastify(verifier, options), await startExpress(verifier, options)];
}

/** GET `path` with `token` as a Bearer token (none when undefined). */
export async function get(
  server: ResourceServer,
  path: string,
  token?: string,
  authorization?: string,
) {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  else if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${server.url}${path}`, { headers });
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: (await response.json()) as Record<string, unknown>,
  };
}
