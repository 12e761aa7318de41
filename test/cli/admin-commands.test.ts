import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { registerAdminCommands } from '../../src/cli/admin-commands.ts';
import { isGatehouseError } from '../../src/domain/errors.ts';
import { createUser, requestAs } from '../support/client.ts';
import { openRawSql, sharedStoreUrl, type RawSql } from '../support/raw-sql.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

/** Runs one command line against `t`'s store; returns its lines and the exit code it set. */
async function runCommand(
  t: TestApp,
  ...args: string[]
): Promise<{ stdout: string[]; stderr: string[]; exitCode: number }> {
  const program = new Command('gatehouse')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  registerAdminCommands(program, (work) => work(t.services));
  const stdout: string[] = [];
  const stderr: string[] = [];
  const { log, error } = console;
  const exitCodeBefore = process.exitCode;
  console.log = (line: string) => stdout.push(line);
  console.error = (line: string) => stderr.push(line);
  try {
    await program.parseAsync(args, { from: 'user' });
    return { stdout, stderr, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    console.log = log;
    console.error = error;
    process.exitCode = exitCodeBefore;
  }
}

describe('gatehouse users set-role|disable|enable|delete and audit list', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  /** Runs one command line against the test app's store; returns the JSON it printed. */
  async function run(...args: string[]): Promise<unknown[]> {
    const { stdout } = await runCommand(t, ...args);
    return stdout.map((line) => JSON.parse(line) as unknown);
  }

  it('promotes a user named by email, and the change is audited without an actor', async () => {
    const target = await createUser(t);
    const [printed] = await run('users', 'set-role', target.email.toUpperCase(), 'admin');
    assert.deepEqual((printed as { role: string }).role, 'admin');
    assert.equal((await t.storage.users.findById(target.user.id))?.role, 'admin');
    const [entry] = await run(
      'audit',
      'list',
      '--user',
      String(target.user.id),
      '--type',
      'user.role_changed',
    );
    assert.deepEqual(entry, {
      ...(entry as object),
      actorId: null,
      subjectId: target.user.id,
      userAgent: 'gatehouse-cli',
      details: { from: 'user', to: 'admin' },
    });
  });

  it('disables a user by id, ending its sessions, and enables it again', async () => {
    const target = await createUser(t);
    await run('users', 'disable', String(target.user.id));
    const me = await requestAs(t.app, target.accessToken, 'GET', '/users/me');
    assert.equal(me.statusCode, 401);
    const [enabled] = await run('users', 'enable', target.email);
    assert.equal((enabled as { disabled: boolean }).disabled, false);
  });

  it('refuses to demote or delete the last active admin, and to act on an unknown user', async () => {
    const last = await createUser(t, 'admin');
    for (const user of await t.storage.users.list({ limit: 100 })) {
      if (user.role === 'admin' && user.id !== last.user.id) {
        await t.storage.users.changeAccess(user.id, { role: 'user' }, t.clock.now());
      }
    }
    await assert.rejects(run('users', 'set-role', last.email, 'user'), (e) =>
      isGatehouseError(e, 'last_admin'),
    );
    await assert.rejects(run('users', 'delete', last.email), (e) =>
      isGatehouseError(e, 'last_admin'),
    );
    await assert.rejects(run('users', 'disable', 'nobody@example.com'), (e) =>
      isGatehouseError(e, 'not_found'),
    );
    await assert.rejects(
      run('users', 'set-role', last.email, 'root'),
      /expected one of: user, admin/,
    );
    assert.equal(await t.storage.users.countAdmins(), 1);
  });

  it('deletes a user and lists audit entries newest first up to --limit', async () => {
    const target = await createUser(t);
    const [deleted] = await run('users', 'delete', target.email);
    assert.deepEqual(deleted, { deleted: target.user.id, email: target.email });
    assert.equal(await t.storage.users.findById(target.user.id), undefined);
    const entries = (await run('audit', 'list', '--limit', '3')) as { id: number; type: string }[];
    assert.equal(entries.length, 3);
    assert.equal(entries[0]?.type, 'user.deleted');
    assert.ok(entries[0]!.id > entries[1]!.id && entries[1]!.id > entries[2]!.id);
  });
});

for (const backend of STORAGE_BACKENDS) {
  describe(`gatehouse audit verify (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestApp;
    let raw: RawSql;
    before(async () => {
      const url = await sharedStoreUrl(backend);
      t = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: url } });
      raw = await openRawSql(url);
    });
    after(async () => {
      await raw?.close();
      await t?.close();
    });

    it('prints how many entries it verified and the head hash, and exits 0', async () => {
      await createUser(t);
      await createUser(t);
      const [head] = await raw.query<{ hash: string; n: number | string }>(
        'select hash, seq as n from audit_events order by seq desc limit 1',
      );
      const verified = await runCommand(t, 'audit', 'verify');
      assert.equal(verified.exitCode, 0, verified.stderr.join('\n'));
      assert.deepEqual(verified.stdout, [
        `${Number(head!.n)} entries verified, head ${head!.hash} (seq ${Number(head!.n)})`,
      ]);
    });

    it('names the first edited entry and what broke, and exits 1', async () => {
      const [middle] = await raw.query<{ id: number | string }>(
        'select id from audit_events where seq = 2',
      );
      const id = Number(middle!.id);
      await raw.query(`update audit_events set ip = '198.51.100.9' where id = ${id}`);
      const broken = await runCommand(t, 'audit', 'verify');
      assert.equal(broken.exitCode, 1);
      assert.deepEqual(broken.stdout, []);
      assert.equal(
        broken.stderr[0],
        `error: audit chain broken: entry ${id}: content changed (hash mismatch)`,
      );
      assert.equal(broken.stderr[1], '1 entries verified before it');
    });
  });
}
