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
 * Under `--workers` the primary reserves the port once (reservePortForWorkers, before it
 * forks) and each worker asks it for that port over node:cluster's channel: a reservation per
 * worker would give each its own port, and one in none would leave them all naming port 0.
 * A worker's release() asks the primary to free the port just before that worker listens on
 * it (its listen goes through the primary, which binds the one shared port).
 */
export async function reservePort(config: Config): Promise<ReservedPort> {
  const { http } = config;
  if (http.port !== 0 || http.publicUrl !== undefined) {
    return { config, release: async () => {} };
  }
  if (cluster.isWorker) return portOfPrimary(config);
  const holder = createServer();
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.listen({ host: http.host, port: 0 }, resolve);
  });
  const { port } = holder.address() as { port: number };
  return {
    config: onPort(config, port),
    release: () => new Promise<void>((resolve) => holder.close(() => resolve())),
  };
}

/** `config` listening on `port`, with the default issuer on it. */
function onPort(config: Config, port: number): Config {
  const { http, tokens } = config;
  const bound = Object.freeze({ ...http, port });
  // The default issuer is the public base URL (load-config.ts); GATEHOUSE_JWT_ISSUER's stays.
  const issuer = tokens.issuer === publicBaseUrl(http) ? publicBaseUrl(bound) : tokens.issuer;
  return Object.freeze({ ...config, http: bound, tokens: Object.freeze({ ...tokens, issuer }) });
}

const ASK_PORT = 'gatehouse:reserved-port';
const RELEASE_PORT = 'gatehouse:release-port';
type Answer = { type: `${typeof ASK_PORT | typeof RELEASE_PORT}:done`; port: number };

/**
 * The primary of `--workers N`, before it forks: reserves the port as reservePort does and
 * answers its workers: which port (each worker asks while it starts, a restarted one too),
 * and free it (the first worker about to listen frees it; later ones find it freed).
 */
export async function reservePortForWorkers(config: Config): Promise<void> {
  const reserved = await reservePort(config);
  if (reserved.config === config) return;
  const { port } = reserved.config.http;
  let released: Promise<void> | undefined;
  cluster.on('message', (worker, message: { type?: string }) => {
    const answer = (type: Answer['type']) => worker.send({ type, port } satisfies Answer);
    if (message?.type === ASK_PORT) answer(`${ASK_PORT}:done`);
    if (message?.type === RELEASE_PORT) {
      void (released ??= reserved.release()).then(() => answer(`${RELEASE_PORT}:done`));
    }
  });
}

/** In a worker: the port its primary reserved, and a release() that asks the primary to free it. */
async function portOfPrimary(config: Config): Promise<ReservedPort> {
  const { port } = await askPrimary(ASK_PORT);
  return {
    config: onPort(config, port),
    release: async () => void (await askPrimary(RELEASE_PORT)),
  };
}

function askPrimary(type: typeof ASK_PORT | typeof RELEASE_PORT): Promise<Answer> {
  return new Promise((resolve) => {
    const onAnswer = (message: Partial<Answer>) => {
      if (message?.type !== `${type}:done`) return;
      process.off('message', onAnswer);
      resolve(message as Answer);
    };
    process.on('message', onAnswer);
    process.send!({ type });
  });
}
