import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { normalizeEmail } from '../../src/domain/email-address.ts';
import {
  bearer,
  FORM,
  passwordLogin,
  STRONG_PASSWORD,
  uniqueEmail,
  requestToken,
} from '../support/client.ts';
import { runGatehouse, type CliRun } from '../support/cli-run.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// passlib's bcrypt of STRONG_PASSWORD (the fixture of the hasher's unit tests).
const PASSLIB_BCRYPT = '$2b$10$PJiuevypiL4QiEjuUBAwx.J1wa.iAiYe5EZPPM/Wmvo1u0zeo7CPu';
/** Runs `node bin/gatehouse.js ...args` to its end. */
const gatehouse = (env: Record<string, string>, ...args: string[]): Promise<CliRun> =>
  runGatehouse(env, args);

/** The same, with `input` on its standard input (empty when undefined). */
const gatehouseWithInput = (
  env: Record<string, string>,
  input: string | undefined,
  ...args: string[]
): Promise<CliRun> => runGatehouse(env, args, input);

/** An expected failure: exit 1, one `error:` line, never a stack trace. */
function assertCleanFailure(run: CliRun, message: RegExp): void {
  assert.equal(run.code, 1, `exit code; stderr: ${run.stderr}`);
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
}

function parseJsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the gatehouse CLI (bin/gatehouse.js)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  const databaseUrl = `sqlite:${join(dir, 'gatehouse.db')}`;
  const env = { GATEHOUSE_DATABASE_URL: databaseUrl };
  const run = (...args: string[]) => gatehouse(env, ...args);

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists its commands in --help', async () => {
    const top = await run('--help');
    assert.equal(top.code, 0, top.stderr);
    for (const command of ['serve', 'migrate', 'users']) {
      assert.match(top.stdout, new RegExp(`^\\s+${command}\\b`, 'm'), `lists ${command}`);
    }
    const users = await run('users', '--help');
    assert.equal(users.code, 0, users.stderr);
    for (const command of ['create', 'list']) {
      assert.match(users.stdout, new RegExp(`^\\s+${command}\\b`, 'm'), `lists users ${command}`);
    }
    const serve = await run('serve', '--help');
    assert.match(serve.stdout, /--port <port>/);
    assert.match(serve.stdout, /--host <host>/);
  });

  it('migrates a fresh database, printing the migrations applied, and then has none left', async () => {
    const fresh = { GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'fresh.db')}` };
    const first = await gatehouse(fresh, 'migrate');
    assert.equal(first.code, 0, first.stderr);
    const names = first.stdout.trim().split('\n');
    assert.equal(names[0], '0001-initial');
    assert.ok(
      names.every((name) => /^\d{4}-[a-z0-9-]+$/.test(name)),
      `migration names: ${first.stdout}`,
    );
    const again = await gatehouse(fresh, 'migrate');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '', 'nothing applied the second time');
    assert.match(again.stderr, /up to date/);
  });

  it('applies each migration exactly once when four migrate at once on one new file', async () => {
    // Kysely's SQLite adapter takes no lock of its own (src/storage/open-storage.ts): two
    // servers started at once on a new file both ran 0001 ("table users already exists").
    for (const round of [1, 2]) {
      const shared = { GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, `race-${round}.db`)}` };
      const runs = await Promise.all([1, 2, 3, 4].map(() => gatehouse(shared, 'migrate')));
      for (const run of runs) assert.equal(run.code, 0, run.stderr);
      const applied = runs.flatMap((run) => run.stdout.trim().split('\n').filter(Boolean));
      assert.equal(applied[0] === undefined, false, 'one of them applied the migrations');
      assert.deepEqual(
        [...applied].sort(),
        [...new Set(applied)].sort(),
        `each migration applied once: ${applied.join(', ')}`,
      );
      assert.ok(applied.includes('0001-initial'));
    }
  });

  describe('users create and users list', () => {
    it('creates a user who then appears in the table and in --json, with no password or hash', async () => {
      const email = uniqueEmail('cli');
      const created = await run('users', 'create', '--email', email, '--password', STRONG_PASSWORD);
      assert.equal(created.code, 0, created.stderr);
      const [user] = parseJsonLines(created.stdout);
      assert.equal(user?.email, email);
      assert.equal(user?.role, 'user');

      const table = await run('users', 'list', '--limit', '1000');
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^ID\s+EMAIL\s+ROLE\s+DISABLED\s+CREATED AT$/m);
      const row = table.stdout.split('\n').find((line) => line.includes(email));
      assert.match(String(row), new RegExp(`^${user?.id}\\s+${email}\\s+user\\s+no\\s+\\d{4}-`));

      const json = await run('users', 'list', '--json', '--email-prefix', email.toUpperCase());
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(parseJsonLines(json.stdout), [user]);

      for (const output of [created, table, json]) {
        const printed = output.stdout + output.stderr;
        assert.ok(!printed.includes(STRONG_PASSWORD), 'never prints the password');
        assert.ok(!printed.includes('$argon2'), 'never prints a hash');
        assert.doesNotMatch(printed, /password_?hash/i);
      }
    });

    it('refuses a second user with the same email in another letter case, saying why', async () => {
      const email = uniqueEmail('dup');
      const first = await run('users', 'create', '--email', email, '--password', STRONG_PASSWORD);
      assert.equal(first.code, 0, first.stderr);
      const second = await run(
        'users',
        'create',
        '--email',
        email.toUpperCase(),
        '--password',
        STRONG_PASSWORD,
      );
      assertCleanFailure(second, /^error: Email already registered$/m);
      assert.equal(second.stdout, '');
    });

    it('refuses a password that fails the policy and an invalid email, naming the option', async () => {
      const weak = await run(
        'users',
        'create',
        '--email',
        uniqueEmail('weak'),
        '--password',
        'short',
      );
      assertCleanFailure(weak, /^error: --password: .*at least 8 characters/m);
      const badEmail = await run(
        'users',
        'create',
        '--email',
        'not-an-email',
        '--password',
        STRONG_PASSWORD,
      );
      assertCleanFailure(badEmail, /^error: --email: Enter an email address/m);
    });

    it('makes an admin with --role admin, and refuses a role that does not exist', async () => {
      const email = uniqueEmail('admin');
      const createAs = (role: string) =>
        run('users', 'create', '--email', email, '--password', STRONG_PASSWORD, '--role', role);
      const refused = await createAs('root');
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /argument 'root' is invalid\. Allowed choices are user, admin/);

      const admin = await createAs('admin');
      assert.equal(admin.code, 0, admin.stderr);
      const listed = parseJsonLines(
        (await run('users', 'list', '--json', '--email-prefix', email)).stdout,
      );
      assert.deepEqual(
        listed.map((u) => [u.email, u.role]),
        [[email, 'admin']],
      );
    });

    it('reads the password from a pipe with --password-stdin, and the user can log in with it', async () => {
      const email = uniqueEmail('stdin');
      const created = await gatehouseWithInput(
        env,
        `${STRONG_PASSWORD}\n`,
        'users',
        'create',
        '--email',
        email,
        '--password-stdin',
      );
      assert.equal(created.code, 0, created.stderr);
      assert.equal((JSON.parse(created.stdout) as { email: string }).email, email);
      assert.ok(!`${created.stdout}${created.stderr}`.includes(STRONG_PASSWORD));
      // The stored hash is of the line without its newline: the same password logs in.
      const t = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: databaseUrl } });
      try {
        const { accessToken } = await passwordLogin(t.app, email, STRONG_PASSWORD);
        assert.ok(accessToken.length > 0);
      } finally {
        await t.close();
      }
      const weak = await gatehouseWithInput(
        env,
        'short\n',
        'users',
        'create',
        '--email',
        uniqueEmail('stdin-weak'),
        '--password-stdin',
      );
      assertCleanFailure(weak, /at least 8 characters/);
      const twoLines = await gatehouseWithInput(
        env,
        'one line\nand another\n',
        'users',
        'create',
        '--email',
        uniqueEmail('stdin-2'),
        '--password-stdin',
      );
      assertCleanFailure(twoLines, /^error: --password-stdin: expected one line/m);
      assert.ok(!twoLines.stderr.includes('and another'), 'does not echo the input');
    });

    it('asks for exactly one of --password-stdin, --password and --password-hash', async () => {
      const neither = await run('users', 'create', '--email', uniqueEmail('none'));
      assert.equal(neither.code, 1);
      assert.match(
        neither.stderr,
        /one of '--password-stdin', '--password <password>' or '--password-hash <hash>'/,
      );
      const stdinAndPassword = await gatehouseWithInput(
        env,
        `${STRONG_PASSWORD}\n`,
        'users',
        'create',
        '--email',
        uniqueEmail('both-stdin'),
        '--password',
        STRONG_PASSWORD,
        '--password-stdin',
      );
      assert.equal(stdinAndPassword.code, 1);
      assert.match(stdinAndPassword.stderr, /cannot be used with/);
      const both = await run(
        'users',
        'create',
        '--email',
        uniqueEmail('both'),
        '--password',
        STRONG_PASSWORD,
        '--password-hash',
        PASSLIB_BCRYPT,
      );
      assert.equal(both.code, 1);
      assert.match(both.stderr, /cannot be used with/);
    });

    it('refuses a hash that is not a complete hash of a supported format, and creates no user', async () => {
      const email = uniqueEmail('badhash');
      for (const hash of [
        'plain-text-password',
        '$1$saltsalt$md5cryptmd5cryptmd5cr', // md5-crypt
        PASSLIB_BCRYPT.slice(0, 30), // truncated in a copy-paste
        '$2b$31$PJiuevypiL4QiEjuUBAwx.J1wa.iAiYe5EZPPM/Wmvo1u0zeo7CPu', // cost 31: days per login
      ]) {
        const refused = await run('users', 'create', '--email', email, '--password-hash', hash);
        assertCleanFailure(refused, /^error: --password-hash: .*argon2id.*bcrypt/m);
        assert.ok(!refused.stderr.includes(hash), 'does not echo the hash');
      }
      const listed = await run('users', 'list', '--json', '--email-prefix', email);
      assert.equal(listed.stdout, '', 'no user was created');
    });

    it('refuses a bad configuration with its message and no stack trace', async () => {
      const refused = await gatehouse({ GATEHOUSE_DATABASE_URL: 'mysql://nope' }, 'users', 'list');
      assertCleanFailure(refused, /^Invalid configuration:\n\s+- GATEHOUSE_DATABASE_URL: /m);
    });
  });

  describe('importing a passlib bcrypt hash with --password-hash', () => {
    let t: TestApp;
    const email = uniqueEmail('passlib');

    before(async () => {
      const imported = await run(
        'users',
        'create',
        '--email',
        email,
        '--password-hash',
        PASSLIB_BCRYPT,
      );
      assert.equal(imported.code, 0, imported.stderr);
      assert.ok(!imported.stdout.includes('$2b$'), 'does not print the hash');
      // The HTTP API on the same database file the CLI wrote.
      t = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: databaseUrl } });
    });
    after(() => t?.close());

    it('stores the hash as given, lets the user log in with the password, and upgrades it to argon2id', async () => {
      const stored = await t.storage.users.findByEmailForLogin(normalizeEmail(email));
      assert.equal(stored?.passwordHash, PASSLIB_BCRYPT);

      const login = await requestToken(t.app, { username: email, password: STRONG_PASSWORD });
      assert.equal(login.statusCode, 200, login.body);
      const me = await t.app.inject({
        method: 'GET',
        url: '/users/me/',
        headers: bearer(String(login.json().access_token)),
      });
      assert.equal(me.statusCode, 200);
      assert.equal(me.json().email, email);

      const upgraded = await t.storage.users.findByEmailForLogin(normalizeEmail(email));
      assert.match(String(upgraded?.passwordHash), /^\$argon2id\$/);
    });

    it('answers a wrong password for the imported user with 401', async () => {
      const login = await t.app.inject({
        method: 'POST',
        url: '/token',
        headers: FORM,
        payload: new URLSearchParams({
          username: email,
          password: 'wrong horse battery staple',
        }).toString(),
      });
      assert.equal(login.statusCode, 401);
      assert.equal(login.json().detail, 'Incorrect username or password');
    });
  });
});
