import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startWorkers, type RunningWorkers } from '../support/workers.ts';

/** The value of one sample line of a Prometheus text exposition, 0 when absent. */
function sample(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

describe('GET /metrics under GATEHOUSE_WORKERS=2', () => {
  let workers: RunningWorkers | undefined;
  after(() => workers?.cleanUp());

  it("sums both workers' counters, whichever worker answers the scrape", async () => {
    workers = await startWorkers({ GATEHOUSE_METRICS: 'true' }, 90_000);
    const { url } = workers;
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
