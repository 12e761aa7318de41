import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'gatehouse.js');
const TIMEOUT_MS = 60_000;

/**
 * `gatehouse serve` until it has logged that it listens (then SIGTERM), or until it exits:
 * everything it wrote, and its exit code.
 */
function serve(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const kept = Object.entries(process.env).filter(([name]) => !name.startsWith('GATEHOUSE_'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
      cwd: ROOT,
      env: { ...Object.fromEntries(kept), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gatehouse serve: no result within ${TIMEOUT_MS} ms:\n${out}`));
    }, TIMEOUT_MS);
    const read = (chunk: Buffer) => {
      out += chunk.toString();
      // The warnings come right after the listen line; give them a moment, then stop.
      if (out.includes('Server listening')) setTimeout(() => child.kill('SIGTERM'), 300);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const UNENCRYPTED_WARNING =
  'GATEHOUSE_KEY_ENCRYPTION_KEY is unset: private signing keys are stored unencrypted';

describe('gatehouse serve and the key encryption key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-key-start-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const key = randomBytes(32).toString('base64');

  it('warns at start in development when private keys are stored unencrypted', async () => {
    const run = await serve({ GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'plain.db')}` });
    assert.ok(run.out.includes(UNENCRYPTED_WARNING), run.out);
  });

  it('does not warn with the key, and refuses a wrong key in one line, without a stack', async () => {
    const databaseUrl = `sqlite:${join(dir, 'sealed.db')}`;
    const good = await serve({
      GATEHOUSE_DATABASE_URL: databaseUrl,
      GATEHOUSE_KEY_ENCRYPTION_KEY: key,
    });
    assert.ok(good.out.includes('Server listening'), good.out);
    assert.ok(!good.out.includes(UNENCRYPTED_WARNING), good.out);

    const wrong = await serve({
      GATEHOUSE_DATABASE_URL: databaseUrl,
      GATEHOUSE_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.out,
      /^error: signing key [\w-]{43} cannot be decrypted: GATEHOUSE_KEY_ENCRYPTION_KEY is not the key it was encrypted with/m,
    );
    assert.doesNotMatch(wrong.out, /^\s+at /m, 'no stack trace');
    assert.ok(!wrong.out.includes('Server listening'));
  });

  it('while GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS is set, starts and reminds to reseal and remove it, never printing it', async () => {
    const databaseUrl = `sqlite:${join(dir, 'changing.db')}`;
    const first = await serve({
      GATEHOUSE_DATABASE_URL: databaseUrl,
      GATEHOUSE_KEY_ENCRYPTION_KEY: key,
    });
    assert.ok(first.out.includes('Server listening'), first.out);
    const next = randomBytes(32).toString('base64');
    const changing = await serve({
      GATEHOUSE_DATABASE_URL: databaseUrl,
      GATEHOUSE_KEY_ENCRYPTION_KEY: next,
      GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS: key,
    });
    assert.ok(changing.out.includes('Server listening'), changing.out);
    assert.ok(
      changing.out.includes(
        'GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS is set: what it sealed still opens; once every instance runs with the new key, run gatehouse reseal, then remove it',
      ),
      changing.out,
    );
    assert.ok(!changing.out.includes(key) && !changing.out.includes(next));
  });

  it('warns in production without GATEHOUSE_PUBLIC_URL, which passkeys are bound to (API.md 9)', async () => {
    const warning = 'GATEHOUSE_PUBLIC_URL is unset: passkeys are bound to http://';
    const production = {
      GATEHOUSE_ENV: 'production',
      GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'passkeys.db')}`,
      GATEHOUSE_KEY_ENCRYPTION_KEY: key,
    };
    const unset = await serve(production);
    assert.ok(unset.out.includes(warning), unset.out);
    const set = await serve({ ...production, GATEHOUSE_PUBLIC_URL: 'https://auth.example.com' });
    assert.ok(set.out.includes('Server listening'), set.out);
    assert.ok(!set.out.includes('GATEHOUSE_PUBLIC_URL is unset'), set.out);
  });

  it('refuses production without the key, saying how to make one', async () => {
    const run = await serve({
      GATEHOUSE_ENV: 'production',
      GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'prod.db')}`,
    });
    assert.equal(run.code, 1);
    assert.match(
      run.out,
      /GATEHOUSE_KEY_ENCRYPTION_KEY: required when GATEHOUSE_ENV=production with GATEHOUSE_JWT_ALG=EdDSA/,
    );
    assert.match(run.out, /openssl rand -base64 32/);
  });
});
