import autocannon, { type Request as AutocannonRequest, type Result } from 'autocannon';
import { BENCH_PASSWORD, benchEmail } from './seed.ts';

export interface Measured {
  name: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  cpuPerRequestMs?: number;
  /** The bench process's own CPU per request: autocannon, on the same cores as the server. */
  loadCpuPerRequestMs?: number;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** How long a load runs: seconds, or a fixed number of requests (bench/rss.ts: same work per run). */
export type Span = number | { amount: number };

export function span(length: Span): { duration: number } | { amount: number } {
  return typeof length === 'number' ? { duration: length } : length;
}

export function summarise(name: string, connections: number, result: Result): Measured {
  return {
    name,
    connections,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** Logs a seeded user in; `refresh` is undefined while the server issues no refresh tokens. */
export async function login(
  url: string,
  i = 0,
): Promise<{ access: string; refresh: string | undefined }> {
  const response = await fetch(`${url}/token`, {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({ username: benchEmail(i), password: BENCH_PASSWORD }),
  });
  if (response.status !== 200)
    throw new Error(`bench login failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { access_token: string; refresh_token?: string };
  return { access: body.access_token, refresh: body.refresh_token };
}

export function me(url: string, token: string, connections: number, length: Span) {
  return autocannon({
    url: `${url}/users/me/`,
    connections,
    ...span(length),
    headers: { authorization: `Bearer ${token}` },
  });
}

export function passwordGrant(url: string, users: number, connections: number, length: Span) {
  let n = 0;
  return autocannon({
    url: `${url}/token`,
    connections,
    ...span(length),
    timeout: 30,
    requests: [
      {
        method: 'POST',
        headers: FORM,
        setupRequest: (request) => ({
          ...request,
          body: new URLSearchParams({
            username: benchEmail(n++ % users),
            password: BENCH_PASSWORD,
          }).toString(),
        }),
      },
    ],
  });
}

/**
 * A refresh grant whose token goes round a shared queue: every request takes one, every 200
 * puts its successor back, and hands the tokens it issued to `issued`. (autocannon may build a
 * connection's next request before the current response arrives, so a per-connection chain
 * would replay its own token.)
 */
export function refreshFromQueue(
  queue: string[],
  issued: (tokens: { access_token: string; refresh_token: string }) => void = () => {},
): AutocannonRequest {
  return {
    method: 'POST',
    headers: FORM,
    setupRequest: (request) => ({
      ...request,
      body: `grant_type=refresh_token&refresh_token=${queue.shift() ?? 'pool-exhausted'}`,
    }),
    onResponse: (status, body) => {
      if (status !== 200) return;
      const tokens = JSON.parse(body) as { access_token: string; refresh_token: string };
      queue.push(tokens.refresh_token);
      issued(tokens);
    },
  };
}

/** Refresh-token rotation under load, the tokens of `pool` going round (refreshFromQueue). */
export function refreshGrant(url: string, pool: string[], connections: number, length: Span) {
  return autocannon({
    url: `${url}/token`,
    connections,
    ...span(length),
    requests: [refreshFromQueue([...pool])],
  });
}

export function register(url: string, connections: number, length: Span) {
  let n = 0;
  const run = `${process.pid}-${Date.now()}`;
  return autocannon({
    url: `${url}/users/`,
    connections,
    ...span(length),
    timeout: 30,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({
            email: `reg-${run}-${n++}@example.com`,
            password: BENCH_PASSWORD,
          }),
        }),
      },
    ],
  });
}

/** POST /logout once for each access token of `tokens` (each ends its own session). */
export function logout(url: string, tokens: string[], connections: number) {
  const queue = [...tokens];
  return autocannon({
    url: `${url}/logout`,
    connections,
    amount: tokens.length,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({
          ...request,
          headers: { authorization: `Bearer ${queue.shift() ?? 'pool-exhausted'}` },
        }),
      },
    ],
  });
}
