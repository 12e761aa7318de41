// npx tsx bench/fsyncs.ts [--requests 64] [--concurrency 1,8,32]: fsync and fdatasync calls per
// request of each write path on SQLite (synchronous=FULL, the default), counted with
// `strace -f -c` attached to the server over a fixed number of requests. Counts of syscalls
// don't depend on the machine's load, unlike times (issue 21). Linux with strace only.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_ARGON2, benchGatehouseEnv } from './gatehouse-env.ts';
import { freePort, startProcess } from './processes.ts';
import { BENCH_PASSWORD, benchEmail, seedUsers } from './seed.ts';
import { startArgs } from '../scripts/start-args.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '64' },
    concurrency: { type: 'string', default: '1,8,32' },
  },
});
const REQUESTS = Number(args.requests);
const CONCURRENCIES = args.concurrency.split(',').map(Number);
const USERS = REQUESTS * 2;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Runs `request(i)` for i in [0, count), `concurrency` at a time; each must answer 2xx. */
async function inPool(
  count: number,
  concurrency: number,
  request: (i: number) => Promise<Response>,
) {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const response = await request(i);
      if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** fsync + fdatasync calls the process `pid` (all its threads) made while `work` ran. */
async function countFsyncs(pid: number, work: () => Promise<void>): Promise<number> {
  const out = join(tmpdir(), `fsyncs-${pid}-${Date.now()}.txt`);
  const strace = spawn(
    'strace',
    ['-f', '-c', '-e', 'trace=fsync,fdatasync', '-o', out, '-p', String(pid)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  // strace says so on stderr once it has attached to the process.
  await new Promise<void>((resolve) => {
    strace.stderr.on('data', (chunk: Buffer) => {
      if (/attached/i.test(chunk.toString())) resolve();
    });
  });
  await new Promise((r) => setTimeout(r, 200));
  await work();
  const exited = new Promise((r) => strace.once('exit', r));
  strace.kill('SIGINT');
  await exited;
  const summary = readFileSync(out, 'utf8');
  rmSync(out);
  let calls = 0;
  for (const name of ['fsync', 'fdatasync']) {
    const line = summary.split('\n').find((l) => l.trim().split(/\s+/).at(-1) === name);
    // % time, seconds, usecs/call, calls, [errors,] syscall
    if (line) calls += Number(line.trim().split(/\s+/)[3]);
  }
  return calls;
}

const work = mkdtempSync(join(tmpdir(), 'gatehouse-fsyncs-'));
const rows: string[] = [];
try {
  for (const concurrency of CONCURRENCIES) {
    const databaseUrl = `sqlite:${join(work, `c${concurrency}.db`)}`;
    await seedUsers(databaseUrl, USERS, BENCH_ARGON2);
    const server = await startProcess(
      startArgs(),
      benchGatehouseEnv(databaseUrl),
      await freePort(),
    );
    const pid = server.child.pid!;
    try {
      const url = server.url;
      const post = (path: string, body: string, headers: Record<string, string>) =>
        fetch(`${url}${path}`, { method: 'POST', headers, body });
      const tokens: { access_token: string; refresh_token: string }[] = [];
      const login = (i: number) =>
        post(
          '/token',
          new URLSearchParams({ username: benchEmail(i), password: BENCH_PASSWORD }).toString(),
          FORM,
        );
      const measured: Record<string, number> = {};
      measured.password_grant = await countFsyncs(pid, () =>
        inPool(REQUESTS, concurrency, async (i) => {
          const response = await login(i);
          tokens[i] = (await response.clone().json()) as (typeof tokens)[number];
          return response;
        }),
      );
      measured.refresh_grant = await countFsyncs(pid, () =>
        inPool(REQUESTS, concurrency, async (i) => {
          const response = await post(
            '/token',
            `grant_type=refresh_token&refresh_token=${tokens[i]!.refresh_token}`,
            FORM,
          );
          tokens[i] = (await response.clone().json()) as (typeof tokens)[number];
          return response;
        }),
      );
      measured.registration = await countFsyncs(pid, () =>
        inPool(REQUESTS, concurrency, (i) =>
          post(
            '/users/',
            JSON.stringify({
              email: `reg-${concurrency}-${i}@example.com`,
              password: BENCH_PASSWORD,
            }),
            { 'content-type': 'application/json' },
          ),
        ),
      );
      measured.logout = await countFsyncs(pid, () =>
        inPool(REQUESTS, concurrency, (i) =>
          fetch(`${url}/logout`, {
            method: 'POST',
            headers: { authorization: `Bearer ${tokens[i]!.access_token}` },
          }),
        ),
      );
      // Users not logged in yet: each one's own fresh session changes its password.
      const fresh: string[] = [];
      await inPool(REQUESTS, 8, async (i) => {
        const response = await login(REQUESTS + i);
        fresh[i] = ((await response.clone().json()) as { access_token: string }).access_token;
        return response;
      });
      measured.password_change = await countFsyncs(pid, () =>
        inPool(REQUESTS, concurrency, (i) =>
          fetch(`${url}/users/me/password`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${fresh[i]}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              current_password: BENCH_PASSWORD,
              new_password: `${BENCH_PASSWORD} changed`,
            }),
          }),
        ),
      );
      for (const [path, calls] of Object.entries(measured)) {
        rows.push(
          `${path.padEnd(16)} c=${String(concurrency).padEnd(3)} ${String(calls).padStart(5)} fsyncs / ${REQUESTS} = ${(calls / REQUESTS).toFixed(2)} per request`,
        );
      }
    } finally {
      await server.stop();
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(rows.join('\n'));
