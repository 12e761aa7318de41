import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/test-app.ts';

const OFF = { GATEHOUSE_METRICS: 'false' };
const ON = { GATEHOUSE_METRICS: 'true' };

/** The async resource types created while an app is built and started. */
async function resourcesCreatedBy(env: Record<string, string>): Promise<Set<string>> {
  const types = new Set<string>();
  const hook = createHook({ init: (_id, type) => void types.add(type) }).enable();
  let t: TestApp | undefined;
  try {
    t = await createTestApp({ env });
  } finally {
    hook.disable();
    await t?.close();
  }
  return types;
}

/** Each route's hooks as Fastify lists them (app-wide hooks included). */
async function routeHooks(env: Record<string, string>): Promise<string> {
  const t = await createTestApp({ env });
  try {
    return t.app.printRoutes({ includeHooks: true, commonPrefix: false });
  } finally {
    await t.close();
  }
}

// GATEHOUSE_METRICS is off by default in production (ASVS 14.3): there the metrics machinery
// must cost nothing, neither per request nor in the background.
describe('with GATEHOUSE_METRICS off', () => {
  it('answers GET /metrics as any unknown path: 404 {"detail":"Not Found"}', async () => {
    const off = await createTestApp({ env: OFF });
    try {
      const response = await off.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(response.statusCode, 404);
      assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(response.body, '{"detail":"Not Found"}');
    } finally {
      await off.close();
    }
  });

  it("starts none of prom-client's default collectors (event-loop delay, GC)", async () => {
    // collectDefaultMetrics starts perf_hooks.monitorEventLoopDelay (an ELDHISTOGRAM async
    // resource) in the same call that installs its GC PerformanceObserver, which async_hooks
    // cannot see: the monitor is the observable half.
    assert.ok((await resourcesCreatedBy(ON)).has('ELDHISTOGRAM'), 'the control: on, it starts');
    assert.ok(!(await resourcesCreatedBy(OFF)).has('ELDHISTOGRAM'), 'off, none starts');
  });

  it('runs no hook after any response (the metrics hooks count requests there)', async () => {
    assert.match(await routeHooks(ON), /\(onResponse\)/, 'the control: on, every route has one');
    assert.doesNotMatch(await routeHooks(OFF), /\(onResponse\)/);
  });
});
