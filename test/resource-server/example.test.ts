// examples/resource-server-fastify runs as the README says: `node server.mjs` with
// GATEHOUSE_ISSUER, importing gatehouse/resource-server by name, against a real Gatehouse.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import { PACKAGE_ROOT } from '../../src/package-root.ts';
import { createUser } from '../support/client.ts';
import { registerClient } from '../support/api-clients.ts';
import { freePort } from '../support/free-port.ts';
import { ensureSdkBuilt } from './built-sdk.ts';
import { startGatehouse, type RunningGatehouse } from './gatehouse.ts';

async function startExample(
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [join(PACKAGE_ROOT, 'examples/resource-server-fastify/server.mjs')],
    {
      cwd: PACKAGE_ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: String(port), LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`example did not start: ${output}`)), 15_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('notes service on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`example exited ${code}: ${output}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('examples/resource-server-fastify against a real Gatehouse', () => {
  let gatehouse: RunningGatehouse;
  let example: { url: string; child: ChildProcess } | undefined;
  let introspecting: { url: string; child: ChildProcess } | undefined;

  before(async () => {
    ensureSdkBuilt();
    // The example runs on the system clock; Gatehouse's test clock starts at the same now.
    gatehouse = await startGatehouse('sqlite::memory:', new ManualClock());
    example = await startExample({ GATEHOUSE_ISSUER: gatehouse.url });
  });
  after(async () => {
    await stop(example?.child);
    await stop(introspecting?.child);
    await gatehouse?.close();
  });

  it('serves a user their notes, refuses /stats without the admin scope, and challenges', async () => {
    const { user, accessToken } = await createUser(gatehouse);
    const auth = { authorization: `Bearer ${accessToken}` };
    const created = await fetch(`${example!.url}/notes`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'buy milk' }),
    });
    assert.equal(created.status, 201);
    const notes = await fetch(`${example!.url}/notes`, { headers: auth });
    assert.deepEqual(await notes.json(), { user: String(user.id), notes: ['buy milk'] });
    const stats = await fetch(`${example!.url}/stats`, { headers: auth });
    assert.equal(stats.status, 403);
    const admin = await createUser(gatehouse, 'admin');
    const adminStats = await fetch(`${example!.url}/stats`, {
      headers: { authorization: `Bearer ${admin.accessToken}` },
    });
    assert.deepEqual(await adminStats.json(), { users: 1, notes: 1 });
    const anonymous = await fetch(`${example!.url}/notes`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="notes"');
  });

  it('with an API client, sees a logout at once', async () => {
    const client = await registerClient(gatehouse, 'notes');
    introspecting = await startExample({
      GATEHOUSE_ISSUER: gatehouse.url,
      GATEHOUSE_CLIENT_ID: client.clientId,
      GATEHOUSE_CLIENT_SECRET: client.secret,
    });
    const { accessToken } = await createUser(gatehouse);
    const auth = { authorization: `Bearer ${accessToken}` };
    assert.equal((await fetch(`${introspecting.url}/notes`, { headers: auth })).status, 200);
    const logout = await fetch(`${gatehouse.url}/logout`, { method: 'POST', headers: auth });
    assert.equal(logout.status, 204);
    const after = await fetch(`${introspecting.url}/notes`, { headers: auth });
    assert.equal(after.status, 401);
    assert.equal(((await after.json()) as { code: string }).code, 'token_revoked');
  });
});
