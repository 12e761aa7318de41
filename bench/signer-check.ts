// npx tsx bench/signer-check.ts [--store sqlite|postgres]: what checking the active kid before
// every signature (key-ring.ts KeyRing.signer) costs the grants that sign. In one process, on
// one store, rounds alternate between services whose check reads the store (as shipped) and
// services whose check answers from memory (what signing cost before the check existed), and
// report medians and their ratio: the refresh grant one at a time and 16 at once, and the
// password grant, all through services.ts with EdDSA keys.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { SigningKeyRepository } from '../src/domain/tokens/signing-key-repository.ts';
import { createServices, type Services } from '../src/services.ts';
import { openStorage } from '../src/storage/open-storage.ts';
import { benchConfig } from './gatehouse-env.ts';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    rounds: { type: 'string', default: '7' },
  },
});
const ROUNDS = Number(args.rounds);
const POSTGRES =
  process.env.GATEHOUSE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function freshUrl(): Promise<{ url: string; drop(): Promise<void> }> {
  if (args.store === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-signer-bench-'));
    return {
      url: `sqlite:${join(dir, 'gatehouse.db')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `gh_bench_signer_${process.pid}`;
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  await client.query(`create schema ${schema}`);
  const url = new URL(POSTGRES);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: async () => {
      await client.query(`drop schema ${schema} cascade`);
      await client.end();
    },
  };
}

/** Microseconds per operation over `count` operations, `parallel` at a time. */
async function perOp(count: number, parallel: number, op: (lane: number) => Promise<unknown>) {
  const start = performance.now();
  for (let done = 0; done < count; done += parallel) {
    await Promise.all(Array.from({ length: parallel }, (_, lane) => op(lane)));
  }
  return ((performance.now() - start) * 1000) / count;
}

async function main() {
  const store = await freshUrl();
  const config = benchConfig({
    GATEHOUSE_DATABASE_URL: store.url,
    GATEHOUSE_JWT_ALG: 'EdDSA',
    GATEHOUSE_JWT_SECRET: '',
  });
  const storage = await openStorage(store.url);
  await storage.migrate();
  const checked = await createServices(config, storage);
  const inner = storage.signingKeys;
  const kid = await inner.activeKid('EdDSA');
  const fromMemory: SigningKeyRepository = {
    activeKid: async () => kid,
    listUsable: (alg, after) => inner.listUsable(alg, after),
    listAll: () => inner.listAll(),
    insertIfNoneActive: (candidate) => inner.insertIfNoneActive(candidate),
    rotate: (expected, candidate) => inner.rotate(expected, candidate),
    deleteRetiredBefore: (cutoff) => inner.deleteRetiredBefore(cutoff),
  };
  const unchecked = await createServices(config, { ...storage, signingKeys: fromMemory });

  const email = 'bench@example.com';
  const password = 'correct horse battery staple';
  await checked.registerUser({ email, password });
  const client = { ip: '127.0.0.1', userAgent: 'bench/1.0' };
  // 16 sessions per services, so that concurrent refreshes never present the same token.
  const lanes = new Map<Services, string[]>();
  for (const services of [checked, unchecked]) {
    const tokens: string[] = [];
    for (let lane = 0; lane < 16; lane += 1) {
      tokens.push(
        (await services.passwordGrant({ username: email, password, client })).refreshToken,
      );
    }
    lanes.set(services, tokens);
  }
  const refresh = async (services: Services, lane: number) => {
    const tokens = lanes.get(services)!;
    tokens[lane] = (await services.rotateRefreshToken(tokens[lane]!, client)).refreshToken;
  };

  const cases = {
    // The added work alone: the check's read (and its promise hops) against none.
    'signer() alone, 1 at a time': {
      after: () => perOp(5000, 1, () => checked.signingKeys.tokenKeys.signer()),
      before: () => perOp(5000, 1, () => unchecked.signingKeys.tokenKeys.signer()),
    },
    'signer() alone, 16 at once': {
      after: () => perOp(16_000, 16, () => checked.signingKeys.tokenKeys.signer()),
      before: () => perOp(16_000, 16, () => unchecked.signingKeys.tokenKeys.signer()),
    },
    'refresh grant, 1 at a time': {
      after: () => perOp(300, 1, () => refresh(checked, 0)),
      before: () => perOp(300, 1, () => refresh(unchecked, 0)),
    },
    'refresh grant, 16 at once': {
      after: () => perOp(800, 16, (lane) => refresh(checked, lane)),
      before: () => perOp(800, 16, (lane) => refresh(unchecked, lane)),
    },
    'password grant': {
      after: () => perOp(20, 1, () => checked.passwordGrant({ username: email, password, client })),
      before: () =>
        perOp(20, 1, () => unchecked.passwordGrant({ username: email, password, client })),
    },
  };
  console.log(
    `store: ${args.store}, ${ROUNDS} rounds, medians in µs per operation (throughput ratio: checked / unchecked)`,
  );
  for (const [name, { before, after }] of Object.entries(cases)) {
    await before();
    await after(); // warm-up
    const b: number[] = [];
    const a: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      b.push(await before());
      a.push(await after());
    }
    const ratio = median(b) / median(a);
    console.log(
      `${name.padEnd(28)} unchecked ${median(b).toFixed(1).padStart(8)}  checked ${median(a).toFixed(1).padStart(8)}  throughput ratio ${ratio.toFixed(3)}`,
    );
  }
  await storage.close();
  await store.drop();
}

await main();
