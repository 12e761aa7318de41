import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { registerAdminCommands } from '../../src/cli/admin-commands.ts';
import { createUser } from '../support/client.ts';
import { enrolTotp, passwordLogin } from '../support/mfa.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

describe('gatehouse users reset-mfa', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it("removes a user's second factors, audited without an actor", async () => {
    const admin = await createUser(t, 'admin');
    await enrolTotp(t.app, admin.accessToken, t.clock);
    assert.equal((await passwordLogin(t.app, admin.email)).statusCode, 403);

    const program = new Command('gatehouse').exitOverride();
    registerAdminCommands(program, (work) => work(t.services));
    const printed: string[] = [];
    const { log } = console;
    console.log = (line: string) => printed.push(line);
    try {
      await program.parseAsync(['users', 'reset-mfa', admin.email], { from: 'user' });
    } finally {
      console.log = log;
    }
    assert.deepEqual(JSON.parse(printed[0]!), { mfa_reset: admin.user.id, email: admin.email });
    assert.equal((await passwordLogin(t.app, admin.email)).statusCode, 200);
    const { items } = await t.services.listAuditEvents(
      { userId: admin.user.id, type: 'mfa.reset' },
      { limit: 10 },
    );
    assert.equal(items.length, 1);
    assert.equal(items[0]?.actorId, null);
  });
});
