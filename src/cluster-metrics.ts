import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'gatehouse:cluster-metrics-req';
const RESPONSE = 'gatehouse:cluster-metrics-res';
// The primary asks every worker; prom-client gives up on a worker after 5 s.
const TIMEOUT_MS = 6000;

type Reply = { type: typeof RESPONSE; id: string; text?: string; error?: string };

/**
 * The primary of `--workers N`: answers a worker's request for the metrics of all workers with
 * prom-client's AggregatorRegistry, which asks each worker for its registry (as JSON over the
 * cluster IPC channel) and sums counters and histograms (gauges by their own aggregator).
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: string }) => {
    if (message?.type !== REQUEST || typeof message.id !== 'string') return;
    const id = message.id;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESPONSE, id, text } satisfies Reply),
      (error: Error) => worker.send({ type: RESPONSE, id, error: error.message } satisfies Reply),
    );
  });
}

/**
 * In a worker: reports `registry` when the primary's AggregatorRegistry asks, and returns
 * the function GET /metrics uses to get every worker's metrics, summed, from the primary.
 */
export function clusterMetricsOf(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one in a worker installs prom-client's listener that answers the primary.
  new AggregatorRegistry();
  const pending = new Map<string, { resolve(text: string): void; reject(error: Error): void }>();
  process.on('message', (message: Partial<Reply>) => {
    if (message?.type !== RESPONSE || !message.id) return;
    const request = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) request?.reject(new Error(message.error));
    else request?.resolve(message.text ?? '');
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = randomUUID();
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('cluster metrics timed out'));
      }, TIMEOUT_MS);
      pending.set(id, {
        resolve: (text) => (clearTimeout(timer), resolve(text)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      process.send!({ type: REQUEST, id });
    });
}
