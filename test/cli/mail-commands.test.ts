import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import { TestSmtpServer } from '../support/smtp-server.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'gatehouse.js');

function gatehouse(env: Record<string, string>, ...args: string[]) {
  const kept = Object.entries(process.env).filter(([name]) => !name.startsWith('GATEHOUSE_'));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...Object.fromEntries(kept), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('gatehouse mail list|show|test', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mail-cli-'));
  const env = {
    GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
    GATEHOUSE_PUBLIC_URL: 'https://id.example.com',
  };
  let smtp: TestSmtpServer;
  let t: TestApp;
  let failedId: number;
  let loggedId: number;
  const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));

  before(async () => {
    // One message given up (SMTP down past the maximum age), through a server on the file.
    smtp = await TestSmtpServer.start();
    await smtp.stop();
    t = await createTestApp({
      clock,
      env: { ...env, GATEHOUSE_SMTP_URL: smtp.url, GATEHOUSE_MAIL_MAX_AGE: '60' },
    });
    failedId = await t.services.sendTestMail('failed@example.com');
    for (let i = 0; i < 50 && (await t.services.getMail(failedId))?.status !== 'failed'; i++) {
      await t.services.mailSender!.deliverDue();
      clock.advance(60);
    }
    await t.close();
    // Development without SMTP: `mail test` queues, a sender logs it.
    const queued = await gatehouse(env, 'mail', 'test', '--to', 'dev@example.com');
    assert.equal(queued.code, 0, queued.stderr);
    loggedId = Number(lines(queued.stdout)[0]?.queued);
    const dev = await createTestApp({ env });
    await dev.services.mailSender!.deliverDue();
    await dev.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists messages newest first, without bodies, filtered by recipient and status', async () => {
    const all = await gatehouse(env, 'mail', 'list');
    assert.equal(all.code, 0, all.stderr);
    const listed = lines(all.stdout);
    assert.deepEqual(
      listed.map((m) => [m.id, m.to, m.status, m.kind]),
      [
        [loggedId, 'dev@example.com', 'logged', 'test_message'],
        [failedId, 'failed@example.com', 'failed', 'test_message'],
      ],
    );
    const failed = listed[1]!;
    assert.match(String(failed.last_error), /ECONNREFUSED/);
    assert.ok(Number(failed.attempts) >= 2);
    assert.ok(!('text' in failed) && !all.stdout.includes('mail delivery works'), 'no bodies');

    const byStatus = lines((await gatehouse(env, 'mail', 'list', '--status', 'failed')).stdout);
    assert.deepEqual(
      byStatus.map((m) => m.id),
      [failedId],
    );
    const byRecipient = lines(
      (await gatehouse(env, 'mail', 'list', '--to', 'DEV@example.com')).stdout,
    );
    assert.deepEqual(
      byRecipient.map((m) => m.id),
      [loggedId],
    );
  });

  it('shows a logged message with its text part, links included; a failed one without', async () => {
    const logged = await gatehouse(env, 'mail', 'show', String(loggedId));
    assert.equal(logged.code, 0, logged.stderr);
    assert.match(logged.stdout, /mail delivery works/);
    assert.match(logged.stdout, /https:\/\/id\.example\.com\//);
    const failed = await gatehouse(env, 'mail', 'show', String(failedId));
    assert.match(failed.stdout, /body removed/);
  });

  it('refuses bad options with one error line and exit 1', async () => {
    const status = await gatehouse(env, 'mail', 'list', '--status', 'lost');
    assert.equal(status.code, 1);
    assert.match(status.stderr, /expected one of: queued, sending, sent, failed, logged/);
    const missing = await gatehouse(env, 'mail', 'show', '99999');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: .*no outbox message 99999/m);
    const address = await gatehouse(env, 'mail', 'test', '--to', 'not-an-address');
    assert.equal(address.code, 1);
    assert.match(address.stderr, /^error: .*Enter an email address like name@example\.com/m);
  });

  it('says in its help that bodies hold live links', async () => {
    const help = await gatehouse(env, 'mail', '--help');
    assert.match(help.stdout, /list/);
    const show = await gatehouse(env, 'mail', 'show', '--help');
    assert.match(show.stdout.replace(/\s+/g, ' '), /hold live links/);
  });
});
