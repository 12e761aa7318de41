import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startArgs } from '../../scripts/start-args.ts';
import { cleanEnv, ROOT } from '../support/cli-run.ts';
import { freePort } from '../support/free-port.ts';
import { TestSmtpServer } from '../support/smtp-server.ts';
import { waitFor } from '../support/wait.ts';

const JWT_SECRET = 'mail-process-test-secret-0123456789abcdefghijk';

/** The server as `npm start` runs it, in production, with its output kept. */
async function startServer(env: Record<string, string>) {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, startArgs(), {
    cwd: ROOT,
    env: cleanEnv({
      HOST: '127.0.0.1',
      PORT: String(port),
      GATEHOUSE_ENV: 'production',
      GATEHOUSE_JWT_SECRET: JWT_SECRET,
      GATEHOUSE_LOG_LEVEL: 'info',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  await waitFor(
    'GET /healthz',
    async () => {
      if (child.exitCode !== null) throw new Error(`server exited early: ${output.stderr}`);
      return fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
    },
    20_000,
  );
  return { child, output, exited };
}

function cli(env: Record<string, string>, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'gatehouse.js'), ...args], {
      cwd: ROOT,
      env: cleanEnv({ GATEHOUSE_JWT_SECRET: JWT_SECRET, ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`gatehouse ${args.join(' ')}: ${stderr}`)),
    );
  });
}

describe('the server process and mail (production)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mail-process-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('without SMTP: warns at start-up that no mail can be sent', async () => {
    const server = await startServer({
      GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'no-smtp.db')}`,
    });
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    const warning = server.output.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .find((l) => l.msg.includes('GATEHOUSE_SMTP_URL'));
    assert.equal(warning?.level, 40, 'a warning');
    assert.match(warning?.msg ?? '', /no mail can be sent; endpoints that send mail answer 503/);
  });

  it('with SMTP: mail queued by another process goes out, no body is logged, shutdown is clean', async () => {
    const smtp = await TestSmtpServer.start();
    const env = {
      GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'smtp.db')}`,
      GATEHOUSE_SMTP_URL: smtp.url,
      GATEHOUSE_PUBLIC_URL: 'https://id.example.com',
    };
    const server = await startServer(env);
    try {
      // The CLI's process has no running sender: the server's poll finds the row.
      await cli(env, 'mail', 'test', '--to', 'ops@example.com');
      const [mail] = await smtp.waitForCount(1, 20_000);
      assert.equal(mail?.header('to'), 'ops@example.com');
      assert.match(mail?.text ?? '', /mail delivery works/);
      await waitFor(
        'the row marked sent',
        async () =>
          (await cli(env, 'mail', 'list', '--status', 'sent')).includes('ops@example.com'),
        20_000,
      );
    } finally {
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
      await smtp.stop();
    }
    const log = server.output.stdout + server.output.stderr;
    assert.doesNotMatch(log, /mail delivery works|ops@example\.com/, 'no body or address logged');
  });
});
