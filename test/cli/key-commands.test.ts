import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runGatehouse, type CliRun } from '../support/cli-run.ts';

/** `node bin/gatehouse.js ...args` with only `env`'s Gatehouse settings. */
const gatehouse = (env: Record<string, string>, ...args: string[]): Promise<CliRun> =>
  runGatehouse(env, args);

const jsonLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('gatehouse keys list|rotate|withdraw (API.md 7)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
  const key = randomBytes(32).toString('base64');
  const env = {
    GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
    GATEHOUSE_JWT_ALG: 'ES256',
    GATEHOUSE_KEY_ENCRYPTION_KEY: key,
  };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the first key as active, never printing private material', async () => {
    const run = await gatehouse(env, 'keys', 'list', '--json');
    assert.equal(run.code, 0, run.stderr);
    const [only, ...rest] = jsonLines(run.stdout);
    assert.equal(rest.length, 0);
    assert.deepEqual(Object.keys(only ?? {}).sort(), [
      'activated_at',
      'alg',
      'created_at',
      'kid',
      'retired_at',
      'state',
    ]);
    assert.equal(only?.alg, 'ES256');
    assert.equal(only?.state, 'active');
    assert.equal(only?.retired_at, null);
    const table = await gatehouse(env, 'keys', 'list');
    assert.match(table.stdout, /^KID\s+ALG\s+STATE/);
    assert.ok(table.stdout.includes(String(only?.kid)));
  });

  it('rotate prints the new kid; list then shows the old key retired', async () => {
    const [before] = jsonLines((await gatehouse(env, 'keys', 'list', '--json')).stdout);
    const rotate = await gatehouse(env, 'keys', 'rotate');
    assert.equal(rotate.code, 0, rotate.stderr);
    const newKid = rotate.stdout.trim();
    assert.match(newKid, /^[\w-]{43}$/);
    assert.notEqual(newKid, before?.kid);
    const keys = jsonLines((await gatehouse(env, 'keys', 'list', '--json')).stdout);
    assert.deepEqual(
      keys.map((k) => [k.kid, k.state]),
      [
        [before?.kid, 'retired'],
        [newKid, 'active'],
      ],
    );
  });

  it('two concurrent rotations end with one active key', async () => {
    const [a, b] = await Promise.all([
      gatehouse(env, 'keys', 'rotate'),
      gatehouse(env, 'keys', 'rotate'),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const active = jsonLines((await gatehouse(env, 'keys', 'list', '--json')).stdout).filter(
      (k) => k.state === 'active',
    );
    assert.equal(active.length, 1);
  });

  it('says clearly when GATEHOUSE_KEY_ENCRYPTION_KEY is wrong or missing: no stack, no new key', async () => {
    const before = jsonLines((await gatehouse(env, 'keys', 'list', '--json')).stdout).length;
    for (const wrong of [
      { ...env, GATEHOUSE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') },
      { GATEHOUSE_DATABASE_URL: env.GATEHOUSE_DATABASE_URL, GATEHOUSE_JWT_ALG: 'ES256' },
    ]) {
      const run = await gatehouse(wrong, 'keys', 'list');
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^error: signing key [\w-]{43} .*GATEHOUSE_KEY_ENCRYPTION_KEY/);
      assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
      assert.ok(!run.stderr.includes(key));
    }
    assert.equal(jsonLines((await gatehouse(env, 'keys', 'list', '--json')).stdout).length, before);
  });

  it('refuses rotate and withdraw under HS256 with a reason', async () => {
    const hs = {
      GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'hs.db')}`,
      GATEHOUSE_JWT_SECRET: 'kq3Zr8vX2mPw9LsT4nYb7HcJ5dFg1AeU6oRi0NtVxQ',
    };
    const run = await gatehouse(hs, 'keys', 'rotate');
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error: GATEHOUSE_JWT_ALG is HS256/);
    const withdraw = await gatehouse(hs, 'keys', 'withdraw', 'x'.repeat(43));
    assert.equal(withdraw.code, 1);
    assert.equal(
      withdraw.stderr,
      'error: GATEHOUSE_JWT_ALG is HS256: there are no stored keys to withdraw; change GATEHOUSE_JWT_SECRET instead, or choose EdDSA, ES256 or RS256\n',
    );
    assert.equal(withdraw.stdout, '');
  });

  it('withdraw removes a retired key and says when every verifier stops trusting it', async () => {
    const before = jsonLines((await gatehouse(env, 'keys', 'list', '--json')).stdout);
    const retired = before.find((k) => k.state === 'retired');
    assert.ok(retired, 'the rotations above left retired keys');
    const run = await gatehouse(env, 'keys', 'withdraw', String(retired.kid));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `withdrawn: ${String(retired.kid)}`);
    assert.doesNotMatch(run.stdout, /^active:/m, 'no rotation for a retired key');
    assert.match(
      run.stdout,
      /refuses the tokens it signed, and leaves it out of the JWKS, within 5 s/,
    );
    assert.match(run.stdout, /max-age=300 s/);
    const after = jsonLines((await gatehouse(env, 'keys', 'list', '--json')).stdout);
    assert.deepEqual(
      after.map((k) => k.kid),
      before.filter((k) => k.kid !== retired.kid).map((k) => k.kid),
    );
  });

  it('withdraw of the active key rotates first and names the new active key', async () => {
    const active = jsonLines((await gatehouse(env, 'keys', 'list', '--json')).stdout).find(
      (k) => k.state === 'active',
    );
    const run = await gatehouse(env, 'keys', 'withdraw', String(active?.kid));
    assert.equal(run.code, 0, run.stderr);
    const [withdrawn, replaced] = run.stdout.split('\n');
    assert.equal(withdrawn, `withdrawn: ${String(active?.kid)}`);
    const newKid = /^active: ([\w-]{43}) \(rotated first: it was the active key\)$/.exec(
      replaced ?? '',
    )?.[1];
    assert.ok(newKid, replaced);
    const after = jsonLines((await gatehouse(env, 'keys', 'list', '--json')).stdout);
    assert.equal(after.find((k) => k.state === 'active')?.kid, newKid);
    assert.equal(
      after.some((k) => k.kid === active?.kid),
      false,
    );
  });

  it('withdraw of an unknown kid fails clearly, changing nothing', async () => {
    const before = (await gatehouse(env, 'keys', 'list', '--json')).stdout;
    const kid = 'A'.repeat(43);
    const run = await gatehouse(env, 'keys', 'withdraw', kid);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `error: no signing key ${kid} (see gatehouse keys list)\n`);
    assert.equal(run.stdout, '');
    assert.equal((await gatehouse(env, 'keys', 'list', '--json')).stdout, before);
    // Kids are base64url: one may begin with '-' (even '-h'), and is still taken as the kid.
    for (const dashed of [`-${'A'.repeat(42)}`, `-h${'A'.repeat(41)}`]) {
      const run = await gatehouse(env, 'keys', 'withdraw', dashed);
      assert.equal(run.code, 1);
      assert.equal(run.stderr, `error: no signing key ${dashed} (see gatehouse keys list)\n`);
    }
    const missing = await gatehouse(env, 'keys', 'withdraw');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /missing required argument 'kid'/);
  });
});
