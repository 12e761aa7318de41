import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { STRONG_PASSWORD, uniqueEmail } from '../support/client.ts';
import { freePort } from '../support/free-port.ts';
import { startArgs } from '../../scripts/start-args.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const JWT_SECRET = 'shutdown-test-secret-0123456789abcdefghijklmnop';
const START_TIMEOUT_MS = 30_000;
const STEP_TIMEOUT_MS = 15_000;

/** Resolves with `promise`, or rejects after `timeoutMs`. */
function within<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no result within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface LogLine {
  msg?: string;
  req?: { url?: string; remotePort?: number; headers?: Record<string, unknown> };
  [key: string]: unknown;
}

/**
 * The real server, as `npm start` runs it (the bundled dist/main.js), on a free port and
 * a temporary SQLite file, with every line it writes kept for inspection.
 */
describe('the server process: graceful shutdown and what it logs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-shutdown-'));
  let child: ChildProcess;
  let url: string;
  let stdout = '';
  let stderr = '';
  let exited: Promise<number | null>;
  const secrets: string[] = [STRONG_PASSWORD, JWT_SECRET];

  const logLines = (): LogLine[] =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);

  before(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('GATEHOUSE_')),
    );
    child = spawn(process.execPath, startArgs(), {
      cwd: ROOT,
      env: {
        ...env,
        HOST: '127.0.0.1',
        PORT: String(port),
        GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
        GATEHOUSE_JWT_SECRET: JWT_SECRET,
        GATEHOUSE_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // 'close', not 'exit': by then every line the process wrote has been read.
    exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    await waitFor(
      'GET /healthz to answer 200',
      async () => {
        if (child.exitCode !== null) throw new Error(`server exited early: ${stderr}`);
        return fetch(`${url}/healthz`).then(
          (response) => response.ok,
          () => false,
        );
      },
      START_TIMEOUT_MS,
    );
  });

  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers, logs in and answers /users/me/ with the token over a real socket', async () => {
    const email = uniqueEmail('shutdown');
    const register = await fetch(`${url}/users/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: STRONG_PASSWORD }),
    });
    assert.equal(register.status, 200);

    const login = await fetch(`${url}/token`, {
      method: 'POST',
      body: new URLSearchParams({ username: email, password: STRONG_PASSWORD }),
    });
    assert.equal(login.status, 200);
    const tokens = (await login.json()) as { access_token: string; refresh_token: string };
    secrets.push(tokens.access_token, tokens.refresh_token);

    const me = await fetch(`${url}/users/me/`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { email: string }).email, email);

    // The failure paths log too: a wrong password, a forged token, a refresh.
    const wrong = await fetch(`${url}/token`, {
      method: 'POST',
      body: new URLSearchParams({ username: email, password: `${STRONG_PASSWORD}!` }),
    });
    assert.equal(wrong.status, 401);
    secrets.push(`${STRONG_PASSWORD}!`);
    const forged = await fetch(`${url}/users/me/`, {
      headers: { authorization: `Bearer ${tokens.access_token.slice(0, -4)}AAAA` },
    });
    assert.equal(forged.status, 401);
    const refresh = await fetch(`${url}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
      }),
    });
    assert.equal(refresh.status, 200);
    const rotated = (await refresh.json()) as { access_token: string; refresh_token: string };
    secrets.push(rotated.access_token, rotated.refresh_token);
  });

  it('on SIGTERM finishes a request already in flight with 200, then exits with code 0', async () => {
    const email = uniqueEmail('inflight');
    const register = await fetch(`${url}/users/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: STRONG_PASSWORD }),
    });
    assert.equal(register.status, 200);

    // A login whose body arrives in two parts: the server has begun the request (its
    // "incoming request" line is logged) before the signal, and gets the rest only after the
    // shutdown has started. Waiting on log lines, not on time, makes the order certain.
    const body = new URLSearchParams({ username: email, password: STRONG_PASSWORD }).toString();
    const socket: Socket = connect(Number(new URL(url).port), '127.0.0.1');
    await within(
      'connect',
      new Promise<void>((resolve) => socket.once('connect', resolve)),
      STEP_TIMEOUT_MS,
    );
    let response = '';
    socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const splitAt = Math.floor(body.length / 2);
    socket.write(
      'POST /token HTTP/1.1\r\n' +
        `Host: 127.0.0.1\r\n` +
        'Content-Type: application/x-www-form-urlencoded\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body.slice(0, splitAt),
    );
    const clientPort = socket.localPort;
    const started = (line: LogLine) =>
      line.msg === 'incoming request' && line.req?.remotePort === clientPort;
    await waitFor(
      'the in-flight request to be logged',
      () => logLines().some(started),
      STEP_TIMEOUT_MS,
    );

    child.kill('SIGTERM');
    await waitFor(
      'the server to log that it is shutting down',
      () => logLines().some((line) => line.msg === 'shutting down'),
      STEP_TIMEOUT_MS,
    );
    socket.write(body.slice(splitAt));
    await within('the in-flight response', closed, STEP_TIMEOUT_MS);

    assert.match(response, /^HTTP\/1\.1 200 /);
    const json = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as {
      access_token: string;
      refresh_token: string;
    };
    assert.equal(typeof json.access_token, 'string');
    secrets.push(json.access_token, json.refresh_token);

    assert.equal(await within('the process to exit', exited, STEP_TIMEOUT_MS), 0);
    // The server's own account agrees: the request completed after the shutdown began.
    const lines = logLines();
    const reqId = lines.find(started)?.reqId;
    const shutdownAt = lines.findIndex((line) => line.msg === 'shutting down');
    const completedAt = lines.findIndex(
      (line) => line.reqId === reqId && line.msg === 'request completed',
    );
    assert.ok(shutdownAt >= 0 && completedAt > shutdownAt, 'completed after "shutting down"');
    assert.equal((lines[completedAt]?.res as { statusCode?: number })?.statusCode, 200);
  });

  it('never logged a password, token, Bearer credential, hash or the signing secret', () => {
    const output = stdout + stderr;
    assert.ok(
      logLines().some((line) => line.msg === 'incoming request'),
      'requests were logged at all (else this test proves nothing)',
    );
    assert.ok(secrets.length >= 8, 'the earlier tests collected the secrets to look for');
    for (const secret of secrets) {
      assert.ok(!output.includes(secret), `the log holds a secret (${secret.slice(0, 6)}...)`);
    }
    assert.doesNotMatch(output, /bearer\s+[\w.~+/-]{8,}/i, 'no Bearer credential');
    assert.doesNotMatch(output, /\$argon2|\$2[aby]\$/, 'no password hash');
    for (const line of logLines()) {
      const headers = line.req?.headers;
      if (headers && 'authorization' in headers) {
        assert.equal(headers.authorization, '[redacted]');
      }
    }
  });
});
