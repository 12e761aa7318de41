// The signing-key part of npm run bench (API.md 7): GET /users/me/ with EdDSA tokens against an
// EdDSA floor (node:http + one Ed25519 verify with node:crypto), beside the HS256 pair, and the
// store reads a flood of unknown kids causes (key-ring.ts bounds them to one per 5 s).
import { createPublicKey, randomBytes, type JsonWebKey } from 'node:crypto';
import autocannon from 'autocannon';
import { decodeProtectedHeader } from 'jose';
import { freePort, type Started, startProcess } from './processes.ts';
import type { Target } from './report.ts';
import { Rounds } from './rounds.ts';
import * as scenario from './scenarios.ts';
import { meWithPool, mintAccessTokens } from './token-pool.ts';

// key-ring.ts UNKNOWN_KID_RELOAD_SECONDS.
const RELOAD_INTERVAL_SECONDS = 5;

export interface SigningKeyBenchDeps {
  /** A seeded Gatehouse with extra environment, kept up for the run (run.ts). */
  startGatehouse(env: Record<string, string>): Promise<Started>;
  measureInto(
    into: Rounds,
    server: Started,
    load: () => ReturnType<typeof scenario.me>,
  ): Promise<void>;
  login(url: string): Promise<{ access: string }>;
  warmUp(url: string, token: string): Promise<void>;
  /** Keeps a started server, to be stopped at the end of the run. */
  keep(server: Promise<Started>): Promise<Started>;
  /** The HS256 pair of run.ts (its floor checks tokens signed with the bench secret). */
  hs256: { floor: Started; gatehouse: Started };
  /** Seeded users, to log in from. */
  users: number;
  /** Distinct tokens per server: more than AccessTokens' 10,000-entry cache, but in the smoke. */
  tokenPoolSize: number;
  rounds: number;
  duration: number;
}

/** The EdDSA floor, verifying with the public key Gatehouse publishes, so both get one token pool. */
async function startEdDsaFloor(
  keep: SigningKeyBenchDeps['keep'],
  gatehouseUrl: string,
  token: string,
): Promise<Started> {
  const kid = decodeProtectedHeader(token).kid;
  const { keys } = (await (await fetch(`${gatehouseUrl}/.well-known/jwks.json`)).json()) as {
    keys: (JsonWebKey & { kid?: string })[];
  };
  const jwk = keys.find((key) => key.kid === kid);
  if (!jwk) throw new Error(`bench: kid ${kid} not in the JWKS`);
  return keep(
    startProcess(
      ['--import', 'tsx', 'bench/floor-server.ts'],
      {
        FLOOR_PUBLIC_KEY: createPublicKey({ key: jwk, format: 'jwk' }).export({
          type: 'spki',
          format: 'pem',
        }) as string,
      },
      await freePort(),
      '/',
    ),
  );
}

async function keyReads(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^gatehouse_signing_key_reads_total (\d+)/m.exec(text);
  if (!match) throw new Error('gatehouse_signing_key_reads_total missing from /metrics');
  return Number(match[1]);
}

/** Tokens of well-formed random kids (43 base64url characters, like our thumbprints). */
function unknownKidTokens(count: number): string[] {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const claims = b64({ sub: '1', sid: 'x', iat: now, exp: now + 3600, jti: 'j' });
  return Array.from({ length: count }, () => {
    const kid = randomBytes(33).toString('base64url').slice(0, 43);
    return `${b64({ alg: 'EdDSA', typ: 'at+jwt', kid })}.${claims}.${randomBytes(64).toString('base64url')}`;
  });
}

/** The EdDSA pair and the unknown-kid flood: results and targets for the report. */
export async function measureSigningKeys(
  deps: SigningKeyBenchDeps,
): Promise<{ results: scenario.Measured[]; targets: Target[] }> {
  const gatehouse = await deps.keep(deps.startGatehouse({ GATEHOUSE_JWT_ALG: 'EdDSA' }));
  const { access } = await deps.login(gatehouse.url);
  const floor = await startEdDsaFloor(deps.keep, gatehouse.url, access);
  await deps.warmUp(floor.url, access);
  await deps.warmUp(gatehouse.url, access);

  // Repeated token: what a client does between refreshes; Gatehouse verifies it once.
  const floorMe = new Rounds('floor: node:http + EdDSA', 32);
  const me = new Rounds('me (EdDSA, repeated token (cache))', 32);
  for (let round = 0; round < deps.rounds; round++) {
    await deps.measureInto(floorMe, floor, () => scenario.me(floor.url, access, 32, deps.duration));
    await deps.measureInto(me, gatehouse, () =>
      scenario.me(gatehouse.url, access, 32, deps.duration),
    );
  }

  // Distinct tokens: every request a signature check, on both sides, per algorithm in turn.
  const distinct = [];
  for (const pair of [
    { alg: 'HS256', floor: deps.hs256.floor, gatehouse: deps.hs256.gatehouse },
    { alg: 'EdDSA', floor, gatehouse },
  ]) {
    const tokens = await mintAccessTokens(pair.gatehouse.url, deps.users, deps.tokenPoolSize);
    distinct.push({
      ...pair,
      pool: { tokens, next: 0 },
      floorRounds: new Rounds(`floor: node:http + ${pair.alg}, distinct tokens`, 32),
      meRounds: new Rounds(`me (${pair.alg}, distinct tokens)`, 32),
    });
  }
  for (let round = 0; round < deps.rounds; round++) {
    for (const pair of distinct) {
      await deps.measureInto(pair.floorRounds, pair.floor, () =>
        meWithPool(pair.floor.url, pair.pool, 32, deps.duration),
      );
      await deps.measureInto(pair.meRounds, pair.gatehouse, () =>
        meWithPool(pair.gatehouse.url, pair.pool, 32, deps.duration),
      );
    }
  }

  // The flood: every request names a new kid.
  const tokens = unknownKidTokens(20_000);
  let next = 0;
  const readsBefore = await keyReads(gatehouse.url);
  const flood = new Rounds('me (unknown-kid flood)', 32);
  await deps.measureInto(flood, gatehouse, () =>
    autocannon({
      url: `${gatehouse.url}/users/me/`,
      connections: 32,
      duration: deps.duration,
      requests: [
        {
          setupRequest: (request) => ({
            ...request,
            headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` },
          }),
        },
      ],
    }),
  );
  const reads = (await keyReads(gatehouse.url)) - readsBefore;

  const floorResult = floorMe.summary();
  const meResult = me.summary();
  const floodResult = flood.summary();
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  const [hsPair, edPair] = distinct.map((pair) => ({
    floor: pair.floorRounds.summary(),
    me: pair.meRounds.summary(),
  }));
  const vsFloor = (pair: { floor: scenario.Measured; me: scenario.Measured }) => ({
    value: ratio(pair.me.rps, pair.floor.rps),
    byCpu: ratio(pair.floor.cpuPerRequestMs!, pair.me.cpuPerRequestMs!),
  });
  return {
    // Beside the HS256 rows of the same table: floor and me, per algorithm.
    results: [
      floorResult,
      meResult,
      hsPair!.floor,
      hsPair!.me,
      edPair!.floor,
      edPair!.me,
      floodResult,
    ],
    targets: [
      {
        what: 'GET /users/me/ EdDSA, distinct tokens, req/s ≥ 50% of the EdDSA floor',
        ...vsFloor(edPair!),
        goal: 0.5,
        unit: 'ratio',
      },
      {
        what: 'GET /users/me/ HS256, distinct tokens, ÷ the HS256 floor',
        ...vsFloor(hsPair!),
        goal: 0.5,
        unit: 'ratio',
        reported: true,
      },
      {
        what: 'GET /users/me/ EdDSA, repeated token (cache), ÷ the EdDSA floor',
        ...vsFloor({ floor: floorResult, me: meResult }),
        goal: 0.5,
        unit: 'ratio',
        reported: true,
      },
      {
        what: `key store reads under an unknown-kid flood ≤ 1 per ${RELOAD_INTERVAL_SECONDS} s (+1)`,
        value: reads,
        goal: Math.floor(deps.duration / RELOAD_INTERVAL_SECONDS) + 1,
        unit: 'reads',
        lower: true,
      },
    ],
  };
}
