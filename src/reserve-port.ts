import cluster from 'node:cluster';
import { createServer } from 'node:net';
import type { Config } from './config/config.ts';
import { publicBaseUrl } from './config/public-base-url.ts';

export interface ReservedPort {
  /** `config` with the reserved port, and the default issuer on it. */
  config: Config;
  /** Frees the port, for the app to listen on it at once. */
  release(): Promise<void>;
}

/**
 * PORT=0 asks the system for a free port. Without GATEHOUSE_PUBLIC_URL, every absolute URL
 * Gatehouse hands out is built on where it listens (config/public-base-url.ts: the default
 * issuer and `iss`, RFC 8414 metadata, OpenAPI `servers`, mail links, the passkeys' relying
 * party), and all are fixed before the app listens, so they would name port 0, which no client
 * can open. Hence a free port is bound first and held while the store opens and the app is
 * built, and released just before the app listens on it; should another process take it in
 * that moment, listening fails with EADDRINUSE rather than advertise a wrong port.
 *
 * Not in a cluster worker: there, listen(0) is the primary's one shared port, which a
 * reservation per worker would split into one port each.
 */
export async function reservePort(config: Config): Promise<ReservedPort> {
  const { http } = config;
  if (http.port !== 0 || http.publicUrl !== undefined || cluster.isWorker) {
    return { config, release: async () => {} };
  }
  const holder = createServer();
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.listen({ host: http.host, port: 0 }, resolve);
  });
  const { port } = holder.address() as { port: number };
  const bound = Object.freeze({ ...http, port });
  // The default issuer is the public base URL (load-config.ts); GATEHOUSE_JWT_ISSUER's stays.
  const { tokens } = config;
  const issuer = tokens.issuer === publicBaseUrl(http) ? publicBaseUrl(bound) : tokens.issuer;
  return {
    config: Object.freeze({ ...config, http: bound, tokens: Object.freeze({ ...tokens, issuer }) }),
    release: () => new Promise<void>((resolve) => holder.close(() => resolve())),
  };
}
