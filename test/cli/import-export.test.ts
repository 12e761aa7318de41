import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { normalizeEmail } from '../../src/domain/email-address.ts';
import { requestToken } from '../support/client.ts';
import { ROOT, runGatehouse, type CliRun } from '../support/cli-run.ts';
import { sharedStoreUrl } from '../support/raw-sql.ts';
import { STORAGE_BACKENDS, type StorageBackend } from '../support/storage-backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// Debian's interpreter and packages (python3-sqlalchemy, python3-passlib, python3-bcrypt):
// the FastAPI app's database is made by the same libraries a real app uses.
const PYTHON = '/usr/bin/python3';
const MAKE_FASTAPI_DB = join(ROOT, 'test', 'fixtures', 'fastapi-tutorial-db.py');
const FIXTURES = JSON.parse(
  readFileSync(join(ROOT, 'test', 'fixtures', 'imported-hashes.json'), 'utf8'),
) as Record<string, string>;
const FIXTURE_PASSWORD = FIXTURES.password!;

function pythonSkip(): string | false {
  const probe = spawnSync(PYTHON, ['-c', 'import sqlalchemy, passlib, bcrypt'], {
    encoding: 'utf8',
  });
  if (probe.status === 0) return false;
  return `${PYTHON} cannot import sqlalchemy, passlib and bcrypt: apt-get install python3-sqlalchemy python3-passlib python3-bcrypt (.ci/run does)`;
}
const missingPython = pythonSkip();
if (missingPython && process.env.GATEHOUSE_TEST_REQUIRE_SERVICES) {
  describe('gatehouse import --from-fastapi', () => {
    it('needs Debian Python packages', () => assert.fail(missingPython));
  });
}

// The users of the FastAPI app: one per line of its `users` table.
const APP_USERS = [
  { email: 'Ada@Example.com', password: 'ada lovelace engine 1843' },
  { email: 'grace@example.com', password: 'grace hopper cobol 1959' },
  { email: 'linus@example.com', password: 'linus torvalds kernel 91' },
  { email: 'mallory@example.com', password: 'mallory was let go 2020', is_active: false },
];

/** A FastAPI-tutorial app's SQLite database, registered through passlib as the app does. */
function makeFastapiSqlite(path: string): void {
  const made = spawnSync(PYTHON, [MAKE_FASTAPI_DB, `sqlite:///${path}`], {
    input: JSON.stringify(APP_USERS),
    encoding: 'utf8',
  });
  assert.equal(made.status, 0, made.stderr);
}

/**
 * The same app on Postgres: the table SQLAlchemy creates there (Debian has no psycopg2 by
 * default), in a fresh schema, holding the rows (passlib's hashes) of the app's SQLite file.
 */
async function makeFastapiPostgres(sqlitePath: string): Promise<string> {
  const url = await STORAGE_BACKENDS[1]!.freshUrl();
  const rows = new SqliteDatabase(sqlitePath, { readonly: true })
    .prepare('select id, email, hashed_password, is_active from users order by id')
    .all() as { id: number; email: string; hashed_password: string; is_active: number }[];
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`create table users (
      id serial primary key, email varchar unique, hashed_password varchar, is_active boolean)`);
    for (const row of rows) {
      await client.query(
        'insert into users (id, email, hashed_password, is_active) values ($1, $2, $3, $4)',
        [row.id, row.email, row.hashed_password, row.is_active === 1],
      );
    }
  } finally {
    await client.end();
  }
  return url;
}

function login(t: TestApp, email: string, password: string) {
  return requestToken(t.app, { username: email, password });
}

async function storedHash(t: TestApp, email: string): Promise<string | undefined> {
  return (await t.storage.users.findByEmailForLogin(normalizeEmail(email)))?.passwordHash;
}

function assertNoStack(run: CliRun): void {
  assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
}

for (const backend of STORAGE_BACKENDS) {
  describe(
    `gatehouse import and export (API.md 10) on ${backend.name}`,
    { skip: backend.skip },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-import-'));
      after(() => rmSync(dir, { recursive: true, force: true }));

      /** A fresh, migrated Gatehouse store with a CLI runner and the HTTP API on it. */
      async function freshGatehouse(store: StorageBackend = backend) {
        const url = await sharedStoreUrl(store);
        const env = { GATEHOUSE_DATABASE_URL: url };
        const run = (args: string[], input?: string | Buffer) => runGatehouse(env, args, input);
        const migrated = await run(['migrate']);
        assert.equal(migrated.code, 0, migrated.stderr);
        return { url, run, app: () => createTestApp({ env }) };
      }

      describe('from a FastAPI-tutorial app', { skip: missingPython }, () => {
        let t: TestApp;
        let appUrl: string;
        let imported: CliRun;
        let rerun: CliRun;
        before(async () => {
          const sqlitePath = join(dir, `fastapi-app-${backend.name}.db`);
          makeFastapiSqlite(sqlitePath);
          appUrl =
            backend.name === 'postgres'
              ? await makeFastapiPostgres(sqlitePath)
              : `sqlite:${sqlitePath}`;
          const g = await freshGatehouse();
          const dry = await g.run(['import', '--from-fastapi', appUrl, '--dry-run']);
          assert.equal(dry.code, 0, dry.stderr);
          assert.match(dry.stdout, /dry run, nothing written\): 4 new, 0 existing, 0 invalid/);
          imported = await g.run(['import', '--from-fastapi', appUrl]);
          rerun = await g.run(['import', '--from-fastapi', appUrl]);
          t = await g.app();
        });
        after(() => t?.close());

        it('imports every user in one command, and a re-run changes nothing', () => {
          assert.equal(imported.code, 0, imported.stderr);
          assert.match(imported.stdout, /^import: 4 imported, 0 already present, 0 invalid$/m);
          assert.equal(rerun.code, 0, rerun.stderr);
          assert.match(rerun.stdout, /^import: 0 imported, 4 already present, 0 invalid$/m);
        });

        it('lets each active user sign in with their original password, upgrades the hash, and the password still works', async () => {
          for (const user of APP_USERS.filter((u) => u.is_active !== false)) {
            const before = await storedHash(t, user.email);
            assert.match(String(before), /^\$2b\$12\$/, 'passlib bcrypt kept as it was');
            const first = await login(t, user.email.toLowerCase(), user.password);
            assert.equal(first.statusCode, 200, first.body);
            assert.match(String(await storedHash(t, user.email)), /^\$argon2id\$/, 'upgraded');
            const again = await login(t, user.email, user.password);
            assert.equal(again.statusCode, 200, again.body);
            const wrong = await login(t, user.email, `${user.password}x`);
            assert.equal(wrong.statusCode, 401);
          }
        });

        it('imports is_active=false as disabled: no sign-in', async () => {
          const mallory = await t.storage.users.findByEmailForLogin('mallory@example.com');
          assert.equal(mallory?.disabled, true);
          const refused = await login(t, 'mallory@example.com', APP_USERS[3]!.password);
          assert.equal(refused.statusCode, 401);
        });

        it('takes renamed tables and columns from flags, and names a missing one', async () => {
          const renamed = join(dir, `renamed-${backend.name}.db`);
          const db = new SqliteDatabase(renamed);
          db.exec(`create table accounts (id integer primary key, mail text, pw text, active int,
          created_at text, is_superuser int)`);
          db.prepare('insert into accounts values (1, ?, ?, 1, ?, 1)').run(
            'root@example.com',
            FIXTURES.passlib_bcrypt_2b,
            '2021-03-04 05:06:07.123456',
          );
          db.close();
          const g = await freshGatehouse();
          const missing = await g.run(['import', '--from-fastapi', `sqlite:${renamed}`]);
          assert.equal(missing.code, 1);
          assert.match(missing.stderr, /^error: .*has no table users/m);
          const wrongColumn = await g.run([
            'import',
            '--from-fastapi',
            `sqlite:${renamed}`,
            '--table',
            'accounts',
          ]);
          assert.equal(wrongColumn.code, 1);
          assert.match(wrongColumn.stderr, /no column email, hashed_password, is_active/);
          const done = await g.run([
            'import',
            '--from-fastapi',
            `sqlite:${renamed}`,
            '--table',
            'accounts',
            '--email-column',
            'mail',
            '--hash-column',
            'pw',
            '--active-column',
            'active',
            '--admin-column',
            'is_superuser',
          ]);
          assert.equal(done.code, 0, done.stderr);
          const app = await g.app();
          try {
            const root = await app.storage.users.findByEmailForLogin('root@example.com');
            assert.equal(root?.role, 'admin');
            assert.equal(
              root?.createdAt.toISOString(),
              '2021-03-04T05:06:07.123Z',
              'created_at kept',
            );
          } finally {
            await app.close();
          }
        });
      });

      it('imports JSONL with every supported hash kind, each of which signs in and is upgraded', async () => {
        const g = await freshGatehouse();
        const kinds = Object.keys(FIXTURES).filter((name) => name !== 'password');
        const lines = kinds.map((kind, i) =>
          JSON.stringify({
            email: `${kind}@example.com`,
            password_hash: FIXTURES[kind],
            role: i === 0 ? 'admin' : 'user',
            email_verified: i % 2 === 0,
            created_at: `2020-01-0${(i % 9) + 1}T00:00:00Z`,
          }),
        );
        const file = join(dir, `kinds-${backend.name}.jsonl`);
        writeFileSync(file, `${lines.join('\n')}\n`);
        const run = await g.run(['import', file]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, new RegExp(`^import: ${kinds.length} imported`, 'm'));
        const t = await g.app();
        try {
          for (const [i, kind] of kinds.entries()) {
            const email = `${kind}@example.com`;
            const user = await t.storage.users.findByEmailForLogin(email);
            assert.equal(user?.passwordHash, FIXTURES[kind], `${kind} stored as given`);
            assert.equal(user?.role, i === 0 ? 'admin' : 'user');
            assert.equal(user?.emailVerified, i % 2 === 0);
            assert.equal(user?.createdAt.toISOString(), `2020-01-0${(i % 9) + 1}T00:00:00.000Z`);
            const wrong = await login(t, email, 'not the password at all');
            assert.equal(wrong.statusCode, 401, `${kind}: a wrong password fails`);
            const first = await login(t, email, FIXTURE_PASSWORD);
            assert.equal(first.statusCode, 200, `${kind}: ${first.body}`);
            assert.match(
              String(await storedHash(t, email)),
              /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/,
            );
            assert.equal((await login(t, email, FIXTURE_PASSWORD)).statusCode, 200);
          }
        } finally {
          await t.close();
        }
      });

      it('imports CSV with a header and quoted fields; --dry-run writes nothing; a re-run skips everyone', async () => {
        const g = await freshGatehouse();
        const file = join(dir, `users-${backend.name}.csv`);
        writeFileSync(
          file,
          [
            'email,password_hash,role,disabled,created_at',
            `"quoted.user@example.com","${FIXTURES.passlib_pbkdf2_sha256}",admin,false,2019-05-06T07:08:09Z`,
            `plain@example.com,${FIXTURES.django_pbkdf2_sha256},,true,`,
            '',
          ].join('\r\n'),
        );
        const dry = await g.run(['import', file, '--dry-run']);
        assert.equal(dry.code, 0, dry.stderr);
        assert.match(dry.stdout, /2 new, 0 existing, 0 invalid/);
        const t = await g.app();
        try {
          assert.equal(
            await storedHash(t, 'plain@example.com'),
            undefined,
            'dry run wrote nothing',
          );
          const done = await g.run(['import', file]);
          assert.match(done.stdout, /^import: 2 imported, 0 already present/m);
          const again = await g.run(['import', file]);
          assert.match(again.stdout, /^import: 0 imported, 2 already present/m);
          const quoted = await t.storage.users.findByEmailForLogin('quoted.user@example.com');
          assert.equal(quoted?.role, 'admin');
          assert.equal(quoted?.createdAt.toISOString(), '2019-05-06T07:08:09.000Z');
          const plain = await t.storage.users.findByEmailForLogin('plain@example.com');
          assert.equal(plain?.disabled, true);
          assert.equal(plain?.role, 'user');
        } finally {
          await t.close();
        }
      });

      it('reports each bad row by line and reason, and imports nothing when any row is bad', async () => {
        const g = await freshGatehouse();
        const file = join(dir, `bad-${backend.name}.jsonl`);
        writeFileSync(
          file,
          [
            JSON.stringify({
              email: 'good@example.com',
              password_hash: FIXTURES.passlib_bcrypt_2b,
            }),
            JSON.stringify({ email: 'not-an-email', password_hash: FIXTURES.passlib_bcrypt_2b }),
            JSON.stringify({
              email: 'md5@example.com',
              password_hash: '$1$saltsalt$md5cryptmd5cr',
            }),
            '{not json',
            JSON.stringify({
              email: 'role@example.com',
              password_hash: FIXTURES.passlib_bcrypt_2b,
              role: 'root',
            }),
            JSON.stringify({
              email: 'mfa@example.com',
              password_hash: FIXTURES.passlib_bcrypt_2b,
              mfa_enabled: true,
            }),
          ].join('\n'),
        );
        const run = await g.run(['import', file]);
        assert.equal(run.code, 1, run.stderr);
        assertNoStack(run);
        assert.match(run.stderr, /^line 2: email is not a valid email address$/m);
        assert.match(run.stderr, /^line 3: password_hash refused: unknown hash format$/m);
        assert.match(run.stderr, /^line 4: not a JSON object/m);
        assert.match(run.stderr, /^line 5: role must be one of user, admin$/m);
        assert.match(
          run.stderr,
          /^line 6: mfa_enabled is true but the TOTP secret cannot be imported/m,
        );
        assert.ok(!run.stderr.includes('$1$saltsalt'), 'no hash is echoed');
        assert.match(run.stdout, /1 new, 0 existing, 5 invalid; nothing was imported/);
        const t = await g.app();
        try {
          assert.equal(await storedHash(t, 'good@example.com'), undefined, 'nothing partial');
        } finally {
          await t.close();
        }
        // --drop-mfa: the MFA user comes in without MFA, said so in the summary.
        writeFileSync(
          file,
          JSON.stringify({
            email: 'mfa@example.com',
            password_hash: FIXTURES.passlib_bcrypt_2b,
            mfa_enabled: true,
          }),
        );
        const dropped = await g.run(['import', file, '--drop-mfa']);
        assert.equal(dropped.code, 0, dropped.stderr);
        assert.match(dropped.stdout, /1 without their MFA \(--drop-mfa\)/);
      });

      it('survives hostile files: huge lines, bad UTF-8, CSV injection, duplicates in another case, absurd hash parameters', async () => {
        const g = await freshGatehouse();
        const good = (email: string) =>
          JSON.stringify({ email, password_hash: FIXTURES.passlib_bcrypt_2b });
        const file = join(dir, `hostile-${backend.name}.jsonl`);
        writeFileSync(
          file,
          Buffer.concat([
            Buffer.from(`${good('first@example.com')}\n`),
            Buffer.from(
              `${JSON.stringify({ email: 'huge@example.com', password_hash: 'x'.repeat(5_000_000) })}\n`,
            ),
            Buffer.from('{"email":"bad\xff\xfeutf8@example.com","password_hash":"', 'latin1'),
            Buffer.from(`${FIXTURES.passlib_bcrypt_2b}"}\n`),
            Buffer.from(`${good('=HYPERLINK("http://evil")@example.com')}\n`),
            Buffer.from(`${good('=1+1@example.com')}\n`),
            Buffer.from(`${good('FIRST@Example.COM')}\n`),
            Buffer.from(
              `${JSON.stringify({ email: 'slow@example.com', password_hash: FIXTURES.passlib_pbkdf2_sha256!.replace('$29000$', '$999999999$') })}\n`,
            ),
            Buffer.from(
              `${JSON.stringify({ email: 'big@example.com', password_hash: FIXTURES.argon2_cffi_argon2id!.replace('m=102400', 'm=4194304') })}\n`,
            ),
          ]),
        );
        const run = await g.run(['import', file]);
        assert.equal(run.code, 1, run.stderr);
        assertNoStack(run);
        assert.match(run.stderr, /^line 2: line is longer than 65536 bytes$/m);
        assert.match(run.stderr, /^line 3: line is not valid UTF-8$/m);
        assert.match(
          run.stderr,
          /^line 4: email (starts with a spreadsheet formula|is not a valid)/m,
        );
        assert.match(run.stderr, /^line 5: email starts with a spreadsheet formula character/m);
        assert.match(
          run.stderr,
          /^line 6: duplicate email: the same address \(in any case\) as line 1$/m,
        );
        assert.match(
          run.stderr,
          /^line 7: password_hash refused: PBKDF2 iterations 999999999 exceed/m,
        );
        assert.match(run.stderr, /^line 8: password_hash refused: argon2 parameters .* exceed/m);
        assert.match(run.stdout, /1 new, 0 existing, 7 invalid; nothing was imported/);
        const t = await g.app();
        try {
          assert.equal(await storedHash(t, 'first@example.com'), undefined, 'nothing partial');
        } finally {
          await t.close();
        }
        // CSV: a header that is not one, and injection in a quoted cell.
        const csv = join(dir, `hostile-${backend.name}.csv`);
        writeFileSync(
          csv,
          `email,password_hash\n"-2+3@example.com",${FIXTURES.passlib_bcrypt_2b}\n"open,${FIXTURES.passlib_bcrypt_2b}\n`,
        );
        const csvRun = await g.run(['import', csv]);
        assert.equal(csvRun.code, 1);
        assert.match(csvRun.stderr, /^line 2: email starts with a spreadsheet formula/m);
        assert.match(csvRun.stderr, /^line 3: CSV: unterminated quoted field$/m);
        writeFileSync(csv, `mail,hash\nx@example.com,${FIXTURES.passlib_bcrypt_2b}\n`);
        const noHeader = await g.run(['import', csv]);
        assert.equal(noHeader.code, 1);
        assert.match(noHeader.stderr, /^line 1: CSV header must name the columns/m);
      });

      it('export writes every user to a new 0600 file, and importing it into an empty store gives back the same users', async () => {
        const source = await freshGatehouse();
        const file = join(dir, `seed-${backend.name}.jsonl`);
        writeFileSync(
          file,
          Object.keys(FIXTURES)
            .filter((name) => name !== 'password')
            .map((kind, i) =>
              JSON.stringify({
                email: `Export.${kind}@Example.com`,
                password_hash: FIXTURES[kind],
                role: i === 1 ? 'admin' : 'user',
                disabled: i === 2,
                email_verified: i % 2 === 1,
                created_at: `2018-0${(i % 9) + 1}-15T10:20:30.456Z`,
              }),
            )
            .join('\n'),
        );
        assert.equal((await source.run(['import', file])).code, 0);
        const out = join(dir, `export-${backend.name}.jsonl`);
        const exported = await source.run(['export', '--out', out]);
        assert.equal(exported.code, 0, exported.stderr);
        assert.equal(statSync(out).mode & 0o777, 0o600, 'created private');
        const again = await source.run(['export', '--out', out]);
        assert.equal(again.code, 1, 'never overwrites an existing file');
        assert.match(again.stderr, /^error: .*EEXIST/m);

        const target = await freshGatehouse();
        const restored = await target.run(['import', out]);
        assert.equal(restored.code, 0, restored.stderr);
        const reExported = await target.run(['export']);
        assert.equal(reExported.code, 0, reExported.stderr);
        const original = readFileSync(out, 'utf8');
        assert.equal(original.trim().split('\n').length, 6);
        assert.equal(reExported.stdout, original, 'the same users, field for field');
        assert.match(
          original,
          /"email":"Export\.passlib_bcrypt_2y@Example\.com"/,
          'email as typed',
        );
      });

      it('refuses to run without a source, with one clear line', async () => {
        const g = await freshGatehouse();
        const run = await g.run(['import']);
        assert.equal(run.code, 1);
        assert.match(run.stderr, /^error: give a FILE/m);
        assertNoStack(run);
      });
    },
  );
}
