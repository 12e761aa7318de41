// Where the ceiling's distance to the floor goes (issue 21): `npx tsx bench/ceiling-parts.ts`
// (DUR= seconds per round, ROUNDS=). The floor and four ceilings that differ only in their
// read (bench/ceiling-server.ts, CEILING_READ): none, an in-memory database, the SQLite file in
// exclusive locking mode, and the SQLite file as Gatehouse opens it (the ceiling itself),
// measured in turns against one HS256 token. Prints req/s and server CPU µs per request, and
// each as a ratio to the floor. Never asserts.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { BENCH_SECRET } from './gatehouse-env.ts';
import { childPids, cpuSeconds, freePort, startProcess, type Started } from './processes.ts';
import * as scenario from './scenarios.ts';

process.chdir(new URL('..', import.meta.url).pathname);
const seconds = Number(process.env.DUR ?? 3);
const rounds = Number(process.env.ROUNDS ?? 3);
const work = mkdtempSync(join(tmpdir(), 'ceiling-parts-'));

const reads = ['none', 'memory', 'exclusive', 'file'] as const;
const servers: [string, Started][] = [
  [
    'floor',
    await startProcess(
      ['--import', 'tsx', 'bench/floor-server.ts'],
      { FLOOR_SECRET: BENCH_SECRET },
      await freePort(),
      '/',
    ),
  ],
];
for (const read of reads) {
  const env = {
    FLOOR_SECRET: BENCH_SECRET,
    CEILING_READ: read,
    CEILING_DB: join(work, `${read}.db`),
    CEILING_USERS: '100',
  };
  const server = await startProcess(
    ['--import', 'tsx', 'bench/ceiling-server.ts'],
    env,
    await freePort(),
    '/',
  );
  servers.push([`ceiling, read: ${read}`, server]);
}

const token = await new SignJWT({ sid: 's1' })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('1')
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(BENCH_SECRET));
for (const [, server] of servers) await scenario.me(server.url, token, 32, 1);

const totals = new Map<string, { requests: number; seconds: number; cpu: number }>();
for (let round = 0; round < rounds; round++) {
  for (const [name, server] of servers) {
    const pid = server.child.pid!;
    const before = cpuSeconds(pid, childPids(pid));
    const result = await scenario.me(server.url, token, 32, seconds);
    if (result.non2xx) throw new Error(`${name}: ${result.non2xx} answers were not 2xx`);
    const total = totals.get(name) ?? { requests: 0, seconds: 0, cpu: 0 };
    total.requests += result.requests.total;
    total.seconds += result.duration;
    total.cpu += cpuSeconds(pid, childPids(pid)) - before;
    totals.set(name, total);
  }
}

const rate = (name: string) => totals.get(name)!.requests / totals.get(name)!.seconds;
const cpuUs = (name: string) => (totals.get(name)!.cpu * 1e6) / totals.get(name)!.requests;
console.log('| server | req/s | ÷ floor | server CPU µs/req | floor ÷ it, by CPU |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name] of servers) {
  const cells = [
    name,
    rate(name).toFixed(0),
    (rate(name) / rate('floor')).toFixed(2),
    cpuUs(name).toFixed(1),
    (cpuUs('floor') / cpuUs(name)).toFixed(2),
  ];
  console.log(`| ${cells.join(' | ')} |`);
}
console.log(`load average (1 min) ${loadavg()[0]!.toFixed(1)}`);
for (const [, server] of servers) await server.stop();
rmSync(work, { recursive: true, force: true });
