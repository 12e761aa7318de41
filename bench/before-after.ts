// The harness of the in-process before/after benches (audit-append.ts, signer-check.ts): one
// fresh store, rounds that alternate between the code as shipped (`after`) and what it
// replaced (`before`), and the medians of each, so that a machine that slows down for a while
// slows both sides alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';

/** `--store sqlite|postgres` (sqlite by default) and `--rounds N` (7). */
export function beforeAfterArgs(): { store: string; rounds: number } {
  const { values } = parseArgs({
    options: {
      store: { type: 'string', default: 'sqlite' },
      rounds: { type: 'string', default: '7' },
    },
  });
  return { store: values.store, rounds: Number(values.rounds) };
}

const POSTGRES =
  process.env.GATEHOUSE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * An empty database for one run, named after the bench: a SQLite file in a new temporary
 * folder, or a new Postgres schema (GATEHOUSE_BENCH_POSTGRES_URL); `drop` removes it.
 */
export async function freshStore(
  store: string,
  bench: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  if (store === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), `gatehouse-${bench}-bench-`));
    return {
      url: `sqlite:${join(dir, 'gatehouse.db')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `gh_bench_${bench}_${process.pid}`;
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

/** Microseconds per operation over `count` operations, `parallel` (lanes) at a time. */
export async function perOp(
  count: number,
  parallel: number,
  op: (lane: number) => Promise<unknown>,
): Promise<number> {
  const start = performance.now();
  for (let done = 0; done < count; done += parallel) {
    await Promise.all(Array.from({ length: parallel }, (_, lane) => op(lane)));
  }
  return ((performance.now() - start) * 1000) / count;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/** One case: each function measures one round (perOp) of the code before and after. */
export interface BeforeAfter {
  before(): Promise<number>;
  after(): Promise<number>;
}

/**
 * Runs each case once unmeasured (warm-up), then `rounds` rounds of before-then-after, and
 * hands its medians to `report`.
 */
export async function compareRounds(
  cases: Record<string, BeforeAfter>,
  rounds: number,
  report: (name: string, before: number, after: number) => void,
): Promise<void> {
  for (const [name, { before, after }] of Object.entries(cases)) {
    await before();
    await after(); // warm-up
    const b: number[] = [];
    const a: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      b.push(await before());
      a.push(await after());
    }
    report(name, median(b), median(a));
  }
}
