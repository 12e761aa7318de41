import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildIsStale } from '../../bin/build-state.js';
import { startArgs, startEnv } from '../../scripts/start-args.ts';
import { freePort } from '../support/free-port.ts';
import {
  cleanEnv,
  ROOT,
  startProcess,
  waitFor,
  type RunningProcess,
} from '../support/gatehouse-process.ts';

// Issue 21 (peak RSS): the bundled server loads what most runs never use on first use, not at
// start. Checked on dist/main.js as `npm start` runs it, since the bundler decides what a
// static import pulls in.

const REPORTER = join(ROOT, 'test', 'support', 'report-loaded-modules.mjs');

describe('the built server loads Swagger UI on first use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-lazy-'));
  let server: RunningProcess;

  /** The CommonJS files the server has loaded, as report-loaded-modules.mjs lists them. */
  async function loadedModules(): Promise<string[]> {
    const reports = () => server.output().match(/^loaded-modules: .*$/gm) ?? [];
    const seen = reports().length;
    server.child.kill('SIGUSR2');
    await waitFor('the list of loaded modules', () => reports().length > seen);
    return JSON.parse(reports()[seen]!.slice('loaded-modules: '.length)) as string[];
  }
  const swaggerUi = (files: string[]) => files.filter((f) => f.includes('/@fastify/swagger-ui/'));

  before(async () => {
    // `npm test` builds first; a single-file run builds here when src/ changed since.
    if (buildIsStale(ROOT, 'dist/main.js')) {
      execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-server.mjs')], { cwd: ROOT });
    }
    const port = await freePort();
    server = await startProcess({
      command: process.execPath,
      args: [`--import=${REPORTER}`, ...startArgs()],
      port,
      readyPath: '/healthz',
      env: cleanEnv({
        ...startEnv(),
        HOST: '127.0.0.1',
        PORT: String(port),
        GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
        GATEHOUSE_JWT_SECRET: 'lazy-modules-test-secret-0123456789abcdefghij',
      }),
    });
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the API without loading @fastify/swagger-ui, and loads it for GET /docs', async () => {
    const me = await fetch(`${server.url}/users/me/`);
    assert.equal(me.status, 401);
    const atStart = await loadedModules();
    assert.ok(
      atStart.some((f) => f.includes('/better-sqlite3/')),
      'the report lists CommonJS packages',
    );
    assert.deepEqual(swaggerUi(atStart), []);

    const docs = await fetch(`${server.url}/docs`);
    assert.equal(docs.status, 200);
    assert.match(String(docs.headers.get('content-security-policy')), /script-src 'self'/);
    assert.notDeepEqual(swaggerUi(await loadedModules()), []);
  });
});
