import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { registerClientCommands } from '../../src/cli/clients.ts';
import { isGatehouseError } from '../../src/domain/errors.ts';
import { createUser } from '../support/client.ts';
import { basicAuthorization, introspect } from '../support/api-clients.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

/** Runs one command line against `t`'s store; returns what it printed. */
async function runCommand(
  t: TestApp,
  ...args: string[]
): Promise<{ stdout: string[]; stderr: string[] }> {
  const program = new Command('gatehouse')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  registerClientCommands(program, (work) => work(t.services));
  const stdout: string[] = [];
  const stderr: string[] = [];
  const { log, error } = console;
  console.log = (line: string) => stdout.push(line);
  console.error = (line: string) => stderr.push(line);
  try {
    await program.parseAsync(args, { from: 'user' });
    return { stdout, stderr };
  } finally {
    console.log = log;
    console.error = error;
  }
}

for (const backend of STORAGE_BACKENDS) {
  describe(`gatehouse clients create|list|delete (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: await backend.freshUrl() } });
    });
    after(() => t?.close());

    it('creates a client, printing its secret once and saying so; the secret introspects', async () => {
      const { stdout, stderr } = await runCommand(t, 'clients', 'create', '--name', ' Billing ');
      assert.equal(stdout.length, 1);
      const created = JSON.parse(stdout[0] ?? '') as Record<string, string | number>;
      assert.equal(created.name, 'Billing');
      assert.match(String(created.client_id), /^gh_/);
      assert.match(String(created.client_secret), /^[A-Za-z0-9_-]{43}$/);
      assert.match(stderr.join('\n'), /will not be shown again/);

      const user = await createUser(t);
      const auth = basicAuthorization(String(created.client_id), String(created.client_secret));
      const response = await introspect(t.app, user.accessToken, { authorization: auth });
      assert.equal(response.statusCode, 200);

      const listed = await runCommand(t, 'clients', 'list');
      assert.equal(listed.stdout.join('\n').includes(String(created.client_secret)), false);
      const items = listed.stdout.map((line) => JSON.parse(line) as Record<string, unknown>);
      const { client_secret: _secret, ...visible } = created;
      assert.deepEqual(
        items.find((c) => c.id === created.id),
        visible,
      );

      const deleted = await runCommand(t, 'clients', 'delete', String(created.id));
      assert.deepEqual(JSON.parse(deleted.stdout[0] ?? ''), { deleted: created.id });
      const refused = await introspect(t.app, user.accessToken, { authorization: auth });
      assert.equal(refused.statusCode, 401);
      const { items: audit } = await t.services.listAuditEvents(
        { type: 'client.deleted' },
        { limit: 1 },
      );
      assert.equal(audit[0]?.userAgent, 'gatehouse-cli');
    });

    it('refuses an unknown id (not_found), a malformed id, and a bad or missing name', async () => {
      await assert.rejects(runCommand(t, 'clients', 'delete', '999999'), (e) =>
        isGatehouseError(e, 'not_found'),
      );
      await assert.rejects(runCommand(t, 'clients', 'delete', 'abc'), /expected the numeric id/);
      await assert.rejects(runCommand(t, 'clients', 'create', '--name', '   '), (e) =>
        isGatehouseError(e, 'invalid_input'),
      );
      await assert.rejects(runCommand(t, 'clients', 'create'), /--name/);
    });
  });
}
