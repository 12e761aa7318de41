import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.ts';
import { assertSafeToListen } from './config/listen-safety.ts';
import cluster from 'node:cluster';
import { clusterMetricsOf } from './cluster-metrics.ts';
import { buildServer } from './http/build-server.ts';
import { reservePort } from './reserve-port.ts';
import { openServices, storageOptionsFor, type Services } from './services.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** serve: loadConfig → openStorage → createServices → buildServer → listen (STYLE.md). */
export async function startServer(configured: Config): Promise<RunningServer> {
  assertSafeToListen(configured);
  // PORT=0: the port is chosen now, so the URLs built from the config name it.
  const reserved = await reservePort(configured);
  const { config } = reserved;
  let log: FastifyInstance['log'] | undefined;
  const opened = await openServices(
    config,
    storageOptionsFor(config, (error) =>
      (log ?? console).warn(
        { err: error },
        'Redis unavailable: rate limits are per instance until it is back',
      ),
    ),
  ).catch(async (error: unknown) => {
    await reserved.release();
    throw error;
  });
  const { services } = opened;
  try {
    if (config.bootstrapAdmin) {
      const created = await services.bootstrapAdmin({
        email: config.bootstrapAdmin.email,
        password: config.bootstrapAdmin.password.reveal(),
      });
      if (created) console.error(`gatehouse: created bootstrap admin ${created.email}`);
    }
    const app = await buildServer(services, config, {
      rateLimitRedis: opened.rateLimitRedis,
      ...(cluster.isWorker ? { clusterMetrics: clusterMetricsOf } : {}),
    });
    log = app.log;
    for (const warning of opened.warnings) app.log.warn(warning);
    const stopPurging = purgeEndedSessionsPeriodically(services, app);
    await app.ready();
    await reserved.release();
    const url = await app.listen({ host: config.http.host, port: config.http.port });
    if (
      config.env === 'development' &&
      config.tokens.algorithm === 'HS256' &&
      !config.tokens.secret
    ) {
      app.log.warn('GATEHOUSE_JWT_SECRET is unset: using a development secret kept in the store');
    }
    if (config.tokens.algorithm !== 'HS256' && !config.tokens.keyEncryptionKey) {
      app.log.warn(
        'GATEHOUSE_KEY_ENCRYPTION_KEY is unset: private signing keys are stored unencrypted (development only; generate one with: openssl rand -base64 32)',
      );
    }
    if (config.tokens.keyEncryptionKeyPrevious) {
      // A previous key left set keeps a retired (perhaps leaked) key able to open the store's
      // secrets: the change is finished only once it is gone (docs/signing-keys.md).
      app.log.warn(
        'GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS is set: what it sealed still opens; once every instance runs with the new key, run gatehouse reseal, then remove it',
      );
    }
    if (config.env !== 'development' && config.http.publicUrl === undefined) {
      // API.md 9 / WebAuthn L2 5.1.3: passkeys are bound to this RP ID and origin for good.
      app.log.warn(
        `GATEHOUSE_PUBLIC_URL is unset: passkeys are bound to ${services.relyingParty.origin} (RP ID ${services.relyingParty.id}); browsers reaching Gatehouse at any other address refuse them`,
      );
    }
    startMailSender(services, app);
    let closing: Promise<void> | undefined;
    return {
      app,
      url,
      // Fastify's close stops accepting, lets in-flight requests finish; the mail sender
      // finishes the message in hand; then we close the store.
      close: () =>
        (closing ??= app
          .close()
          .then(() => (stopPurging(), services.mailSender?.stop()))
          .then(() => opened.close())),
    };
  } catch (error) {
    await reserved.release();
    await opened.close();
    throw error;
  }
}

/**
 * API.md 8: every instance (each cluster worker too) runs a sender. Claims are exclusive
 * across instances, and a sender in the process that enqueued is woken at once.
 */
function startMailSender(services: Services, app: FastifyInstance): void {
  const sender = services.mailSender;
  if (!sender) {
    app.log.warn(
      'GATEHOUSE_SMTP_URL is unset: no mail can be sent; endpoints that send mail answer 503',
    );
    return;
  }
  if (sender.delivery === 'log') {
    app.log.info('GATEHOUSE_SMTP_URL is unset: mail is written to this log (development only)');
  }
  sender.start(app.log);
}

// Expired and long-revoked sessions (with their refresh tokens) are deleted this often.
const PURGE_INTERVAL_MS = 10 * 60 * 1000;

/** Keeps the sessions tables bounded: once at start, then periodically. */
function purgeEndedSessionsPeriodically(services: Services, app: FastifyInstance): () => void {
  const purge = () => {
    services.purgeEndedSessions().then(
      (deleted) => {
        if (deleted > 0) app.log.info({ deleted }, 'purged ended sessions');
      },
      (error: unknown) => app.log.warn({ err: error }, 'purging ended sessions failed'),
    );
    housekeepSigningKeys(services, app);
    services.purgeFinishedMail().then(
      (deleted) => {
        if (deleted > 0) app.log.info({ deleted }, 'purged old outbox mail');
      },
      (error: unknown) => app.log.warn({ err: error }, 'purging old outbox mail failed'),
    );
  };
  purge();
  const timer = setInterval(purge, PURGE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * GATEHOUSE_KEY_ROTATION_DAYS (API.md 7): rotates an old active key (once across instances:
 * SigningKeyRepository.rotate) and deletes keys a day past their JWKS window. Runs with the
 * session purge: at start, then every PURGE_INTERVAL_MS.
 */
function housekeepSigningKeys(services: Services, app: FastifyInstance): void {
  services.signingKeys
    .rotateIfDue()
    .then((kid) => {
      if (kid !== undefined)
        app.log.info(
          { kid },
          'rotated the signing key (its age reached GATEHOUSE_KEY_ROTATION_DAYS)',
        );
      return services.signingKeys.deleteExpired();
    })
    .then(
      (deleted) => {
        if (deleted > 0) app.log.info({ deleted }, 'deleted signing keys past their JWKS window');
      },
      (error: unknown) => app.log.warn({ err: error }, 'signing key housekeeping failed'),
    );
}

/** Graceful shutdown on SIGTERM/SIGINT (API.md 5). */
export function closeOnSignals(server: RunningServer): void {
  const stop = (signal: string) => {
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.app.log.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
