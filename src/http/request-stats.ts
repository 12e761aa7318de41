import type { Registry } from 'prom-client';

const REQUESTS = 'gatehouse_http_requests_total';
const DURATION = 'gatehouse_http_request_duration_seconds';
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** One route and method's counts: plain numbers, so counting a request allocates nothing. */
class RouteStats {
  readonly byStatus = new Map<number, number>();
  readonly buckets = new Float64Array(BUCKETS.length + 1);
  sum = 0;
  count = 0;
  constructor(
    readonly method: string,
    readonly route: string,
  ) {}

  record(status: number, seconds: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    this.buckets[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

/**
 * `gatehouse_http_requests_total` and `gatehouse_http_request_duration_seconds`, counted in
 * plain numbers per route and method and turned into prom-client samples only when scraped.
 * prom-client's `inc`/`observe` build a label hash string, a closure and objects per call:
 * with the per-route state prebuilt (`forRoute`), counting a request allocates nothing
 * (issue 21, BENCHMARKS.md). The output is the Counter and Histogram prom-client would print,
 * and `get()` is what its registries (and AggregatorRegistry across workers) read.
 */
export class RequestStats {
  private readonly routes: RouteStats[] = [];

  constructor(registry: Registry) {
    registry.registerMetric({
      name: REQUESTS,
      get: async () => ({
        name: REQUESTS,
        help: 'HTTP requests by method, route and status',
        type: 'counter',
        aggregator: 'sum',
        values: this.requestSamples(),
      }),
    } as unknown as Parameters<Registry['registerMetric']>[0]);
    registry.registerMetric({
      name: DURATION,
      get: async () => ({
        name: DURATION,
        help: 'HTTP request latency by method and route',
        type: 'histogram',
        aggregator: 'sum',
        values: this.durationSamples(),
      }),
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The counts of one route pattern (never the raw URL: label cardinality stays bounded). */
  forRoute(method: string, route: string): RouteStats {
    let stats = this.routes.find((s) => s.method === method && s.route === route);
    if (!stats) {
      stats = new RouteStats(method, route);
      this.routes.push(stats);
    }
    return stats;
  }

  private requestSamples(): Sample[] {
    const out: Sample[] = [];
    for (const s of this.routes)
      for (const [status, value] of s.byStatus)
        out.push({ labels: { method: s.method, route: s.route, status: String(status) }, value });
    return out;
  }

  private durationSamples(): Sample[] {
    const out: Sample[] = [];
    for (const s of this.routes) {
      if (s.count === 0) continue;
      const labels = { method: s.method, route: s.route };
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += s.buckets[i]!;
        out.push({
          labels: { le, ...labels },
          value: cumulative,
          metricName: `${DURATION}_bucket`,
        });
      });
      out.push({
        labels: { le: '+Inf', ...labels },
        value: s.count,
        metricName: `${DURATION}_bucket`,
      });
      out.push({ labels, value: s.sum, metricName: `${DURATION}_sum` });
      out.push({ labels, value: s.count, metricName: `${DURATION}_count` });
    }
    return out;
  }
}
