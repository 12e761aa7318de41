// npm run bench:import: `gatehouse import` and `gatehouse export` as an operator runs them (the
// CLI, its own process), on a fresh SQLite file and a fresh Postgres schema. Reports the import
// rate of --users rows of JSONL (default 100,000) and of the same users from a FastAPI-style
// SQLite table, and the export's time and resident memory at --export-users users (default
// 1,000,000), sampled from /proc every 50 ms: memory must stay flat however many users there are.
// BENCHMARKS.md "Import and export (issue 16)". Not part of `npm run bench`.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import SqliteDatabase from 'better-sqlite3';
import { openStorage } from '../src/storage/open-storage.ts';
import pg from 'pg';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    'export-users': { type: 'string', default: '1000000' },
    store: { type: 'string', default: 'both' },
  },
});
const USERS = Number(args.users);
const EXPORT_USERS = Number(args['export-users']);
const POSTGRES_URL =
  process.env.GATEHOUSE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
// One real passlib bcrypt hash for every user: the import checks its format, never computes it.
const HASH = '$2b$10$PJiuevypiL4QiEjuUBAwx.J1wa.iAiYe5EZPPM/Wmvo1u0zeo7CPu';
const BIN = join(import.meta.dirname, '..', 'bin', 'gatehouse.js');

interface Measured {
  seconds: number;
  /** Resident set size (MiB) sampled every 50 ms: the largest, and the one at 10% of the run. */
  peakMiB: number;
  earlyMiB: number;
  stdout: string;
}

function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

async function gatehouse(databaseUrl: string, cliArgs: string[]): Promise<Measured> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...cliArgs], {
    env: { ...process.env, GATEHOUSE_DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const samples: { at: number; mib: number }[] = [];
  const timer = setInterval(() => {
    const mib = rssMiB(child.pid!);
    if (mib !== undefined) samples.push({ at: performance.now() - started, mib });
  }, 50);
  const [code] = (await once(child, 'close')) as [number];
  clearInterval(timer);
  if (code !== 0) throw new Error(`gatehouse ${cliArgs.join(' ')} exited ${code}: ${stdout}`);
  const seconds = (performance.now() - started) / 1000;
  const early = samples.find((s) => s.at >= seconds * 100) ?? samples[0];
  return {
    seconds,
    peakMiB: Math.max(0, ...samples.map((s) => s.mib)),
    earlyMiB: early?.mib ?? 0,
    stdout,
  };
}

async function writeJsonl(path: string, count: number): Promise<void> {
  const out = createWriteStream(path);
  let chunk = '';
  for (let i = 0; i < count; i++) {
    chunk += `${JSON.stringify({ email: `user${i}@example.com`, password_hash: HASH, created_at: '2024-01-01T00:00:00Z' })}\n`;
    if (i % 10_000 === 9_999) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'close');
}

function writeFastapiDb(path: string, count: number): void {
  const db = new SqliteDatabase(path);
  db.exec(`create table users (id integer primary key, email varchar unique,
    hashed_password varchar, is_active boolean)`);
  const insert = db.prepare(
    'insert into users (email, hashed_password, is_active) values (?, ?, 1)',
  );
  db.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(`fastapi${i}@example.com`, HASH);
  })();
  db.close();
}

const schemas: string[] = [];

/** Runs one statement on the bench's Postgres. */
async function postgres(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A fresh store: a new SQLite file, or a new Postgres schema (dropped at the end). */
async function freshUrl(store: 'sqlite' | 'postgres', dir: string): Promise<string> {
  if (store === 'sqlite')
    return `sqlite:${join(dir, `gatehouse-${schemas.length}-${Date.now()}.db`)}`;
  const schema = `gh_bench_import_${process.pid}_${schemas.length}`;
  schemas.push(schema);
  await postgres(`create schema ${schema}`);
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** `count` users straight into the table, in batches (the export's seed, not measured). */
async function seed(url: string, count: number): Promise<void> {
  const storage = await openStorage(url);
  try {
    await storage.migrate();
    const now = new Date();
    for (let i = 0; i < count; i += 2000) {
      const batch = Array.from({ length: Math.min(2000, count - i) }, (_, j) => ({
        email: `export${i + j}@example.com`,
        passwordHash: HASH,
        role: 'user' as const,
        disabled: false,
        emailVerified: false,
        createdAt: now,
      }));
      await storage.userTransfer.insertBatch(batch, now);
    }
  } finally {
    await storage.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-import-'));
try {
  const jsonl = join(dir, 'users.jsonl');
  await writeJsonl(jsonl, USERS);
  const fastapiDb = join(dir, 'fastapi.db');
  writeFastapiDb(fastapiDb, USERS);
  const stores =
    args.store === 'both' ? (['sqlite', 'postgres'] as const) : [args.store as 'sqlite'];
  for (const store of stores) {
    const url = await freshUrl(store, dir);
    await gatehouse(url, ['migrate']);
    // A fresh store makes its first signing key on the first command: not the import's cost.
    await gatehouse(url, ['users', 'list', '--limit', '1']);
    // The fixed cost of any command (start, open, migrate check), for reading the rates below.
    const idle = await gatehouse(url, ['users', 'list', '--limit', '1']);
    console.log(`${store}: a command that does nothing takes ${idle.seconds.toFixed(1)} s`);
    const fromFile = await gatehouse(url, ['import', jsonl]);
    const fromApp = await gatehouse(url, ['import', '--from-fastapi', `sqlite:${fastapiDb}`]);
    const rerun = await gatehouse(url, ['import', jsonl]);
    const rate = (m: Measured) => Math.round(USERS / m.seconds).toLocaleString('en');
    console.log(
      `${store}: import ${USERS.toLocaleString('en')} users from JSONL ${fromFile.seconds.toFixed(1)} s ` +
        `(${rate(fromFile)}/s, peak RSS ${fromFile.peakMiB.toFixed(0)} MiB); ` +
        `--from-fastapi ${fromApp.seconds.toFixed(1)} s (${rate(fromApp)}/s, ` +
        `peak RSS ${fromApp.peakMiB.toFixed(0)} MiB); ` +
        `re-run (all present) ${rerun.seconds.toFixed(1)} s (peak RSS ${rerun.peakMiB.toFixed(0)} MiB)`,
    );
    const exportUrl = await freshUrl(store, dir);
    await seed(exportUrl, EXPORT_USERS);
    await gatehouse(exportUrl, ['users', 'list', '--limit', '1']);
    const out = join(dir, `export-${store}.jsonl`);
    const exported = await gatehouse(exportUrl, ['export', '--out', out]);
    console.log(
      `${store}: export ${EXPORT_USERS.toLocaleString('en')} users ${exported.seconds.toFixed(1)} s ` +
        `(${Math.round(EXPORT_USERS / exported.seconds).toLocaleString('en')}/s, ` +
        `${(statSync(out).size / 2 ** 20).toFixed(0)} MiB file), RSS at 10% ` +
        `${exported.earlyMiB.toFixed(0)} MiB, peak ${exported.peakMiB.toFixed(0)} MiB`,
    );
    rmSync(out);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  for (const schema of schemas) await postgres(`drop schema ${schema} cascade`);
}
