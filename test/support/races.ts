import type { FastifyInstance } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { me, refresh, type TokenPair } from './client.ts';

/**
 * THE races harness: starts `action`, then sends `request()` every `spacingMs` (a first one
 * just before, when `leading`) until the action has answered, at most `max` in all. Returns the
 * action's answer and every request's. The requests that land while the action is in flight
 * are the interleavings a race test must survive; how many there are is left to the machine.
 */
export async function whileInFlight<A, R>(
  action: () => Promise<A>,
  request: () => Promise<R>,
  options: { max?: number; spacingMs?: number; leading?: boolean } = {},
): Promise<{ action: A; answers: R[] }> {
  const { max = 60, spacingMs = 2, leading = false } = options;
  const pending: Promise<R>[] = leading ? [request()] : [];
  let settled = false;
  const running = action().finally(() => {
    settled = true;
  });
  while (!settled && pending.length < max) {
    pending.push(request());
    await sleep(spacingMs);
  }
  const answer = await running;
  return { action: answer, answers: await Promise.all(pending) };
}

/**
 * How many of `pairs` still work: an access token GET /users/me/ does not refuse (401), a
 * refresh token the refresh grant does not refuse (400). `{0, 0}` when every session ended.
 */
export async function liveSessions(
  app: FastifyInstance,
  pairs: TokenPair[],
): Promise<{ accessTokens: number; refreshTokens: number }> {
  const live = { accessTokens: 0, refreshTokens: 0 };
  for (const pair of pairs) {
    if ((await me(app, pair.accessToken)).statusCode !== 401) live.accessTokens += 1;
    if ((await refresh(app, pair.refreshToken)).statusCode !== 400) live.refreshTokens += 1;
  }
  return live;
}

/**
 * Settings for a burst of one account's logins: no account lockout, and cheap hashes one at a
 * time, so many logins stay affordable on a busy machine and still queue in the hasher behind
 * a change's new hash, as in production.
 */
export const LOGIN_BURST_ENV = {
  GATEHOUSE_LOGIN_FAILURES_BEFORE_LOCK: '1000',
  GATEHOUSE_ARGON2_MEMORY_KIB: '1024',
  GATEHOUSE_ARGON2_ITERATIONS: '1',
  GATEHOUSE_HASH_CONCURRENCY: '1',
} as const;
