import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { FORM, STRONG_PASSWORD, bearer, registerAt } from '../support/client.ts';
import { startWorkers, type RunningWorkers } from '../support/workers.ts';

describe('GATEHOUSE_WORKERS=2', () => {
  let workers: RunningWorkers | undefined;
  after(() => workers?.cleanUp());

  it('serves from two worker processes on one port and stops them all on SIGTERM', async () => {
    workers = await startWorkers();
    const { child, url } = workers;

    const pids = execFileSync('pgrep', ['-P', String(child.pid), '-f', 'dist/main.js'])
      .toString()
      .trim()
      .split('\n');
    assert.equal(pids.length, 2, 'the primary has two worker processes');

    const email = `w-${process.pid}@example.com`;
    await registerAt(url, email);
    // Requests spread over both workers; every one sees the same store and signing secret.
    for (let i = 0; i < 6; i++) {
      const login = await fetch(`${url}/token`, {
        method: 'POST',
        headers: { ...FORM, connection: 'close' },
        body: new URLSearchParams({ username: email, password: STRONG_PASSWORD }),
      });
      assert.equal(login.status, 200);
      const { access_token } = (await login.json()) as { access_token: string };
      const me = await fetch(`${url}/users/me/`, {
        headers: { ...bearer(access_token), connection: 'close' },
      });
      assert.equal(me.status, 200);
    }

    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise((r) => setTimeout(() => r('timeout'), 15_000)),
    ]);
    assert.equal(code, 0);
  });
});
