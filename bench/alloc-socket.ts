// Bytes allocated per GET /users/me/ over a real socket, independent of the machine's load
// (issue 21): `npx tsx bench/alloc-socket.ts`. alloc-me.ts drives the app in-process through
// app.inject, whose own allocations (~20 KB a request) differ from Node's HTTP server's; this
// one runs the built server as `npm start` does, with `--trace-gc-nvp`, sends a fixed number
// of requests with autocannon from this process and sums V8's `allocated=` (bytes allocated
// since the previous collection) over the collections the measured requests caused. Scavenges
// per request come out of the same trace: what the garbage collector's share of CPU follows.
// B_DIST= (a saved dist/main.js) measures a second build in turn; N=, ROUNDS=. GRANT=1
// measures password grants (POST /token, N=1000 by default) instead. Prints numbers, never
// asserts.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.ts';
import * as scenario from './scenarios.ts';
import { BENCH_ARGON2, benchGatehouseEnv } from './gatehouse-env.ts';
import { seedUsers } from './seed.ts';
import { startArgs, startEnv } from '../scripts/start-args.ts';

process.chdir(new URL('..', import.meta.url).pathname);
execFileSync(process.execPath, ['scripts/build-server.mjs'], { stdio: 'ignore' });
const grants = process.env.GRANT === '1';
const N = Number(process.env.N ?? (grants ? 1000 : 20_000));
// Each measured run of requests: N of the chosen kind.
const measure = (s: Server, amount: number) =>
  grants
    ? scenario.passwordGrant(s.url, 10, 32, { amount })
    : scenario.me(s.url, s.token, 32, { amount });
const rounds = Number(process.env.ROUNDS ?? 3);
const work = mkdtempSync(join(tmpdir(), 'alloc-socket-'));

interface Server {
  name: string;
  child: ChildProcess;
  url: string;
  /** The trace's collections so far: bytes allocated before each, and its kind. */
  gcs: Array<{ allocated: number; scavenge: boolean }>;
  token: string;
}

async function start(name: string, main: string): Promise<Server> {
  const db = `sqlite:${join(work, `${name}.db`)}`;
  await seedUsers(db, 10, BENCH_ARGON2);
  const port = await freePort();
  const args = startArgs();
  args[args.length - 1] = main;
  const child = spawn(process.execPath, ['--trace-gc-nvp', ...args], {
    env: { ...process.env, ...startEnv(), ...benchGatehouseEnv(db), PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const gcs: Server['gcs'] = [];
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const allocated = /\ballocated=(\d+)/.exec(line);
      if (allocated) gcs.push({ allocated: Number(allocated[1]), scavenge: / gc=s /.test(line) });
    }
  });
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    try {
      if ((await fetch(`${url}/healthz`)).status < 500) break;
    } catch {
      // not yet listening
    }
    if (tries > 600) throw new Error(`${name} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { access } = await scenario.login(url);
  return { name, child, url, gcs, token: access };
}

const servers = [await start('A', join(process.cwd(), 'dist/main.js'))];
if (process.env.B_DIST) servers.push(await start('B', process.env.B_DIST));
for (const s of servers) await measure(s, grants ? 200 : 20_000);

const totals = new Map<string, { bytes: number[]; scavenges: number[] }>();
for (let round = 0; round < rounds; round++) {
  for (const s of servers) {
    const from = s.gcs.length;
    const result = await measure(s, N);
    if (result.non2xx || result.errors) throw new Error(`${s.name}: ${result.non2xx} non-2xx`);
    // Let the trace's last lines arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The first collection after `from` also counts bytes allocated before the measured
    // requests; with N requests causing hundreds of collections, one is within 0.5%.
    const measured = s.gcs.slice(from + 1);
    const bytes = measured.reduce((sum, gc) => sum + gc.allocated, 0);
    const t = totals.get(s.name) ?? { bytes: [], scavenges: [] };
    t.bytes.push(bytes / result.requests.total);
    t.scavenges.push((measured.filter((gc) => gc.scavenge).length * 1000) / result.requests.total);
    totals.set(s.name, t);
  }
}
const kb = (values: number[]) => values.map((v) => (v / 1024).toFixed(2)).join(' / ');
for (const [name, t] of totals)
  console.log(
    `${name}  ${kb(t.bytes)} KB/request  scavenges per 1000 requests ${t.scavenges.map((v) => v.toFixed(1)).join(' / ')}`,
  );
for (const s of servers) s.child.kill('SIGTERM');
