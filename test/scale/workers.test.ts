import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../support/free-port.ts';
import { startArgs } from '../../scripts/start-args.ts';
import { FORM } from '../support/client.ts';

async function waitForHealth(url: string, deadlineMs: number): Promise<void> {
  while (Date.now() < deadlineMs) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become healthy in time');
}

describe('GATEHOUSE_WORKERS=2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-'));
  let child: ChildProcess | undefined;
  after(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves from two worker processes on one port and stops them all on SIGTERM', async () => {
    const port = await freePort();
    child = spawn(process.execPath, startArgs(), {
      env: {
        ...process.env,
        PORT: String(port),
        GATEHOUSE_WORKERS: '2',
        GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
        GATEHOUSE_LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url, Date.now() + 30_000);

    const workers = execFileSync('pgrep', ['-P', String(child.pid), '-f', 'dist/main.js'])
      .toString()
      .trim()
      .split('\n');
    assert.equal(workers.length, 2, 'the primary has two worker processes');

    const email = `w-${process.pid}@example.com`;
    const register = await fetch(`${url}/users/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'correct horse battery staple' }),
    });
    assert.equal(register.status, 200);
    // Requests spread over both workers; every one sees the same store and signing secret.
    for (let i = 0; i < 6; i++) {
      const login = await fetch(`${url}/token`, {
        method: 'POST',
        headers: { ...FORM, connection: 'close' },
        body: new URLSearchParams({ username: email, password: 'correct horse battery staple' }),
      });
      assert.equal(login.status, 200);
      const { access_token } = (await login.json()) as { access_token: string };
      const me = await fetch(`${url}/users/me/`, {
        headers: { authorization: `Bearer ${access_token}`, connection: 'close' },
      });
      assert.equal(me.status, 200);
    }

    const exited = new Promise<number | null>((resolve) =>
      child!.once('exit', (code) => resolve(code)),
    );
    child.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise((r) => setTimeout(() => r('timeout'), 15_000)),
    ]);
    assert.equal(code, 0);
  });
});
