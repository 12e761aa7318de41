import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startArgs } from '../../scripts/start-args.ts';
import { freePort } from '../support/free-port.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Put into every URL below: it must never appear in anything the server writes or answers.
const PASSWORD = 'secretpw';
const postgres = STORAGE_BACKENDS.find((b) => b.name === 'postgres')!;
const sqlite = STORAGE_BACKENDS.find((b) => b.name === 'sqlite')!;

interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything written so far, stdout and stderr together. */
  output(): string;
  exited: Promise<number | null>;
}

/** The server as `npm start` runs it (dist/main.js), on `databaseUrl`, with info logs. */
async function startServer(databaseUrl: string): Promise<ServerProcess> {
  const port = await freePort();
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('GATEHOUSE_')),
  );
  const child = spawn(process.execPath, startArgs(), {
    cwd: ROOT,
    env: {
      ...env,
      HOST: '127.0.0.1',
      PORT: String(port),
      GATEHOUSE_DATABASE_URL: databaseUrl,
      GATEHOUSE_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return { child, url: `http://127.0.0.1:${port}`, output: () => output, exited };
}

/** Starts the server on a store it can't use; returns its exit code and all it wrote. */
async function failedStart(databaseUrl: string): Promise<{ code: number | null; output: string }> {
  const server = await startServer(databaseUrl);
  const code = await server.exited;
  return { code, output: server.output() };
}

// An operator whose server won't start, or whose /readyz fails, learns which store (scheme,
// host, port, database) and the driver's reason, and never sees the store's password.
describe('a store that cannot be used at start: the server names it and says why', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-diagnostics-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('SQLite: a path under a regular file', { skip: sqlite.skip }, async () => {
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, '');
    const { code, output } = await failedStart(`sqlite:${file}/gatehouse.db`);
    assert.equal(code, 1);
    assert.match(output, /failed to start: the store sqlite:\S+not-a-directory\/gatehouse\.db/);
    assert.match(output, /ENOTDIR/);
  });

  it('Postgres: a closed port', { skip: postgres.skip }, async () => {
    const port = await freePort();
    const { code, output } = await failedStart(
      `postgres://u:${PASSWORD}@127.0.0.1:${port}/gatehouse`,
    );
    assert.equal(code, 1);
    assert.match(output, new RegExp(`the store postgres://127\\.0\\.0\\.1:${port}/gatehouse `));
    assert.match(output, /is unavailable: ECONNREFUSED/);
    assert.ok(!output.includes(PASSWORD), output);
  });

  it('Postgres: a database that does not exist', { skip: postgres.skip }, async () => {
    const url = new URL(process.env.GATEHOUSE_TEST_POSTGRES_URL!);
    url.password = PASSWORD;
    url.pathname = '/gatehouse_no_such_database';
    const { code, output } = await failedStart(url.toString());
    assert.equal(code, 1);
    assert.match(output, /the store postgres:\/\/\S+:\d+\/gatehouse_no_such_database /);
    assert.match(output, /3D000: database "gatehouse_no_such_database" does not exist/);
    assert.ok(!output.includes(PASSWORD), output);
  });
});

describe(
  'losing Postgres while serving: /readyz and the log say which store and why',
  {
    skip: postgres.skip,
  },
  () => {
    let proxy: TcpProxy;
    let server: ServerProcess;
    let location: string;

    before(async () => {
      const url = new URL(await postgres.freshUrl());
      proxy = new TcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
      url.port = String(await proxy.start());
      url.password = PASSWORD;
      location = `postgres://${url.hostname}:${url.port}${url.pathname}`;
      server = await startServer(url.toString());
      const deadline = Date.now() + 30_000;
      while (
        !(await fetch(`${server.url}/readyz`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (server.child.exitCode !== null || Date.now() > deadline)
          throw new Error(`the server did not start: ${server.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    after(async () => {
      server.child.kill('SIGKILL');
      await server.exited;
      await proxy.close();
    });

    it('answers 503 naming the store and the reason, and logs both, never the password', async () => {
      await proxy.cut();
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 503);
      const body = (await ready.json()) as {
        checks: { store: string };
        store: { location: string; reason: string };
      };
      assert.equal(body.checks.store, 'down');
      assert.equal(body.store.location, location);
      assert.match(
        body.store.reason,
        /ECONNREFUSED|ECONNRESET|Connection terminated|timeout|no answer within/i,
      );

      // A request meeting the outage is logged at warn with the same account.
      const register = await fetch(`${server.url}/users/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'outage@example.com', password: 'correct horse battery' }),
      });
      assert.equal(register.status, 503);
      assert.doesNotMatch(await register.text(), /postgres|ECONN/, 'clients get no internals');

      // The log reaches us through a pipe, a moment after the responses: wait for its lines.
      const logLine = async (match: (line: Record<string, unknown>) => boolean) => {
        for (let attempt = 0; attempt < 100; attempt++) {
          const found = server
            .output()
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line) as Record<string, unknown>)
            .find(match);
          if (found) return found;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(`no such log line in: ${server.output()}`);
      };
      const notReady = await logLine((line) => line.msg === 'not ready: store unreachable');
      assert.deepEqual(notReady.store, body.store);
      const failed = await logLine((line) => line.code === 'store_unavailable');
      assert.equal((failed.err as { location?: string }).location, location);
      assert.ok(!server.output().includes(PASSWORD), 'the password is in the output');
      assert.ok(!JSON.stringify(body).includes(PASSWORD));
    });
  },
);
