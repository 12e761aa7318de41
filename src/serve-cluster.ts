import cluster from 'node:cluster';
import type { Config } from './config/config.ts';
import { assertSafeToListen } from './config/listen-safety.ts';
import { serveClusterMetrics } from './cluster-metrics.ts';
import { reservePortForWorkers } from './reserve-port.ts';
import { closeOnSignals, startServer } from './serve.ts';
import { migrateStore } from './services.ts';

// A worker that dies is replaced, but not faster than this, so a crash loop can't spin.
const RESTART_DELAY_MS = 1000;

/**
 * `--workers N` / GATEHOUSE_WORKERS=N: N processes share the port through
 * node:cluster, so one machine's cores all serve. The primary migrates once, then forks; each
 * worker is a complete, stateless instance (sessions, revocation and the signing secret live
 * in the store; rate-limit counters are per process unless Redis is configured).
 */
export async function serveCluster(config: Config): Promise<void> {
  // Before forking: a worker refused at start would only be restarted, again and again.
  assertSafeToListen(config);
  if (!cluster.isPrimary) {
    closeOnSignals(await startServer(config));
    return;
  }
  await migrateStore(config, 1);
  if (config.metrics.enabled) serveClusterMetrics();
  // PORT=0: chosen here once, so that every worker's URLs name the one port they share.
  await reservePortForWorkers(config);

  let stopping = false;
  const fork = () => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    console.error(`gatehouse: worker ${worker.process.pid} exited (${signal ?? code}); restarting`);
    setTimeout(fork, RESTART_DELAY_MS).unref();
  });
  for (let i = 0; i < config.workers; i++) fork();

  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Each worker closes gracefully on SIGTERM (serve.ts); the primary leaves when all have.
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    const check = setInterval(() => {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        clearInterval(check);
        process.exit(0);
      }
    }, 50);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
