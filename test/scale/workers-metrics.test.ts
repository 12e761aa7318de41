import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startArgs } from '../../scripts/start-args.ts';
import { freePort } from '../support/free-port.ts';

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

/** The value of one sample line of a Prometheus text exposition, 0 when absent. */
function sample(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

describe('GET /metrics under GATEHOUSE_WORKERS=2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-metrics-'));
  let child: ChildProcess | undefined;
  after(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it("sums both workers' counters, whichever worker answers the scrape", async () => {
    const port = await freePort();
    child = spawn(process.execPath, startArgs(), {
      env: {
        ...process.env,
        PORT: String(port),
        GATEHOUSE_WORKERS: '2',
        GATEHOUSE_METRICS: 'true',
        GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
        GATEHOUSE_LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url, Date.now() + 90_000);
    // The second worker may start listening a little after the first: give it time, so that
    // node:cluster's round-robin hands the requests below to both.
    await new Promise((r) => setTimeout(r, 3000));
    const requests = 10;
    for (let i = 0; i < requests; i++) {
      const response = await fetch(`${url}/users/me/`, { headers: { connection: 'close' } });
      assert.equal(response.status, 401);
    }
    const line = 'gatehouse_http_requests_total{method="GET",route="/users/me/",status="401"}';
    for (let scrape = 0; scrape < 4; scrape++) {
      const response = await fetch(`${url}/metrics`, { headers: { connection: 'close' } });
      assert.equal(response.status, 200);
      assert.equal(sample(await response.text(), line), requests, 'both workers counted');
    }
  });
});
