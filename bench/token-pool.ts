// Distinct access tokens for GET /users/me/ (issue 13): AccessTokens remembers up to 10,000
// tokens that verified (src/domain/tokens/access-tokens.ts), so one repeated token measures
// that cache, not a signature check. A pool larger than the cache, sent round-robin, makes
// every request verify a signature, as the floor does.
import autocannon from 'autocannon';
import * as scenario from './scenarios.ts';

// Refresh chains minting in parallel: logins cost an argon2id hash each, refreshes do not.
const CHAINS = 96;

/**
 * `count` distinct, valid access tokens from real sessions: CHAINS logins, then refresh grants
 * (no hashing) round a shared queue (scenario.refreshFromQueue), keeping every access token.
 */
export async function mintAccessTokens(
  url: string,
  users: number,
  count: number,
): Promise<string[]> {
  const queue: string[] = [];
  for (let i = 0; i < CHAINS; i++) queue.push((await scenario.login(url, i % users)).refresh!);
  const tokens: string[] = [];
  while (tokens.length < count) {
    await autocannon({
      url: `${url}/token`,
      connections: 16,
      amount: count - tokens.length,
      requests: [scenario.refreshFromQueue(queue, (issued) => tokens.push(issued.access_token))],
    });
    if (queue.length === 0) throw new Error('bench: every refresh chain broke while minting');
  }
  return tokens;
}

/** GET /users/me/ with the tokens of `pool` in turn; `next` carries on across rounds. */
export function meWithPool(
  url: string,
  pool: { tokens: string[]; next: number },
  connections: number,
  duration: number,
) {
  return autocannon({
    url: `${url}/users/me/`,
    connections,
    duration,
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          headers: { authorization: `Bearer ${pool.tokens[pool.next++ % pool.tokens.length]}` },
        }),
      },
    ],
  });
}
