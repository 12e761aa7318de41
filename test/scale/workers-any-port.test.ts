import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startArgs } from '../../scripts/start-args.ts';
import { BIN, cleanEnv, ROOT } from '../support/cli-run.ts';
import { FORM, STRONG_PASSWORD, claimsOf } from '../support/client.ts';
import { waitFor } from '../support/wait.ts';

// PORT=0 under --workers: the primary chooses the port once and every worker builds its URLs
// (issuer, `iss`, RFC 8414 metadata) on it, never on port 0 (reserve-port.ts).

const LISTENING = /"pid":(\d+).*"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/g;
// No keep-alive: node:cluster hands each new connection to the next worker in turn.
const CLOSE = { connection: 'close' };

interface Cluster {
  child: ChildProcess;
  output(): string;
  /** Each worker's pid and the URL it logged, once both listen. */
  listening(): Promise<{ pids: Set<string>; url: string }>;
}

function start(args: string[], env: Record<string, string>, cleanUps: (() => void)[]): Cluster {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-port-'));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: cleanEnv({
      HOST: '127.0.0.1',
      PORT: '0',
      GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
      // Info: each worker logs where it listens, and every request with its pid.
      GATEHOUSE_LOG_LEVEL: 'info',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanUps.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const listening = () => [...output.matchAll(LISTENING)];
  return {
    child,
    output: () => output,
    listening: async () => {
      await waitFor(
        'both workers to listen',
        () => {
          if (child.exitCode !== null) throw new Error(`exited early: ${output}`);
          return listening().length >= 2;
        },
        90_000,
      );
      const lines = listening();
      const urls = new Set(lines.map((m) => m[2]!));
      assert.equal(urls.size, 1, `the workers listen on one port: ${[...urls].join(', ')}`);
      return { pids: new Set(lines.map((m) => m[1]!)), url: [...urls][0]! };
    },
  };
}

/** The pids that logged an incoming request for `path`. */
function pidsServing(output: string, path: string): Set<string> {
  const pids = new Set<string>();
  for (const line of output.split('\n')) {
    if (!line.includes('"incoming request"')) continue;
    const entry = JSON.parse(line) as { pid: number; req?: { url?: string } };
    if (entry.req?.url === path) pids.add(String(entry.pid));
  }
  return pids;
}

describe('PORT=0 with two workers: every worker names the port the primary chose', () => {
  const cleanUps: (() => void)[] = [];
  after(() => cleanUps.forEach((cleanUp) => cleanUp()));

  for (const [how, args, env] of [
    ['gatehouse serve --port 0 --workers 2', [BIN, 'serve', '--port', '0', '--workers', '2'], {}],
    ['npm start with GATEHOUSE_WORKERS=2', startArgs(), { GATEHOUSE_WORKERS: '2' }],
  ] as const) {
    it(`${how}: the metadata's issuer and the tokens' iss carry the bound port`, async () => {
      const cluster = start([...args], env, cleanUps);
      const { pids, url } = await cluster.listening();
      assert.equal(pids.size, 2);
      assert.notEqual(new URL(url).port, '0');

      const metadataPath = '/.well-known/oauth-authorization-server';
      for (let i = 0; i < 6; i++) {
        const response = await fetch(`${url}${metadataPath}`, { headers: CLOSE });
        const metadata = (await response.json()) as Record<string, unknown>;
        assert.equal(metadata.issuer, url);
        assert.equal(metadata.token_endpoint, `${url}/token`);
      }

      const email = `any-port-${process.pid}@example.com`;
      const registered = await fetch(`${url}/users/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...CLOSE },
        body: JSON.stringify({ email, password: STRONG_PASSWORD }),
      });
      assert.equal(registered.status, 200);
      for (let i = 0; i < 4; i++) {
        const login = await fetch(`${url}/token`, {
          method: 'POST',
          headers: { ...FORM, ...CLOSE },
          body: new URLSearchParams({ username: email, password: STRONG_PASSWORD }),
        });
        assert.equal(login.status, 200);
        const { access_token } = (await login.json()) as { access_token: string };
        assert.equal(claimsOf(access_token).iss, url);
      }

      // Both workers answered: the assertions above held for each of them.
      await waitFor('request logs', () => pidsServing(cluster.output(), '/token').size > 0);
      assert.deepEqual(pidsServing(cluster.output(), metadataPath), pids);
      assert.deepEqual(pidsServing(cluster.output(), '/token'), pids);
    });
  }
});
