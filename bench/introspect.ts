import autocannon from 'autocannon';
import { span, type Span } from './scenarios.ts';
import { hashClientSecret } from '../src/domain/clients/api-client.ts';
import { openStorage } from '../src/storage/open-storage.ts';

// A fixed client for the bench's own throwaway stores only; never a real deployment's.
const BENCH_CLIENT_ID = 'gh_bench';
const BENCH_CLIENT_SECRET = 'bench-client-secret-0123456789abcdefghijklmno';
const BENCH_AUTHORIZATION = `Basic ${Buffer.from(`${BENCH_CLIENT_ID}:${BENCH_CLIENT_SECRET}`).toString('base64')}`;

/** Registers the bench's API client in a migrated store (as `gatehouse clients create` would). */
export async function seedBenchClient(databaseUrl: string): Promise<void> {
  const storage = await openStorage(databaseUrl);
  try {
    await storage.apiClients.create({
      clientId: BENCH_CLIENT_ID,
      name: 'bench',
      secretHash: hashClientSecret(BENCH_CLIENT_SECRET),
      createdAt: new Date(),
    });
  } finally {
    await storage.close();
  }
}

/**
 * POST /introspect (RFC 7662) of one active access token, as a resource server without a
 * cache would call it: client authentication, signature, one session read per request.
 */
export function introspect(url: string, token: string, connections: number, length: Span) {
  return autocannon({
    url: `${url}/introspect`,
    connections,
    ...span(length),
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: BENCH_AUTHORIZATION,
    },
    body: new URLSearchParams({ token }).toString(),
  });
}
