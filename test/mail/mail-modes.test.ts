import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import { buildServer } from '../../src/http/build-server.ts';
import type { MailSenderLog } from '../../src/mail/mail-sender.ts';
import { uniqueEmail } from '../support/client.ts';
import { createTestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait.ts';

function capturingLog() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  const at =
    (level: string) =>
    (fields: object, message: string): void => {
      lines.push({ level, fields: fields as Record<string, unknown>, message });
    };
  const log: MailSenderLog = { info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines };
}

describe('development without SMTP', () => {
  it('writes each message, links included, to the log and keeps it in the outbox as logged', async () => {
    const t = await createTestApp({
      clock: new ManualClock(),
      env: { GATEHOUSE_ENV: 'development', GATEHOUSE_PUBLIC_URL: 'http://localhost:8000' },
    });
    try {
      assert.equal(t.services.mailSender?.delivery, 'log');
      const { log, lines } = capturingLog();
      t.services.mailSender?.start(log);
      const to = uniqueEmail('dev');
      const id = await t.services.sendTestMail(to);
      await waitFor('logged', async () => (await t.services.getMail(id))?.status === 'logged');

      const line = lines.find((l) => l.level === 'info' && l.message.includes('not sent'));
      const mail = line?.fields.mail as Record<string, unknown> | undefined;
      assert.equal(mail?.to, to);
      assert.equal(mail?.subject, 'Gatehouse test message');
      assert.match(String(mail?.text), /http:\/\/localhost:8000\//);
      const listed = await t.services.listMail({ to, limit: 10 });
      assert.deepEqual(
        listed.map((m) => [m.id, m.status]),
        [[id, 'logged']],
      );
      assert.match(listed[0]?.text ?? '', /mail delivery works/);
    } finally {
      await t.close();
    }
  });
});

describe('production without SMTP', () => {
  it('has no sender, and endpoints that need mail answer 503 naming GATEHOUSE_SMTP_URL', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_ENV: 'production' } });
    try {
      assert.equal(t.services.mailSender, undefined);
      // A route as the mail flows write them: requireMailDelivery() first.
      const app = await buildServer(t.services, t.config, { logger: false });
      app.post('/needs-mail', async () => {
        t.services.requireMailDelivery();
        return { sent: true };
      });
      await app.ready();
      const response = await app.inject({ method: 'POST', url: '/needs-mail' });
      await app.close();
      assert.equal(response.statusCode, 503);
      assert.deepEqual(response.json(), {
        detail: 'Mail delivery is not configured on this server (GATEHOUSE_SMTP_URL is not set)',
        code: 'mail_unavailable',
      });
    } finally {
      await t.close();
    }
  });

  it('with SMTP configured, requireMailDelivery lets the request through', async () => {
    const t = await createTestApp({
      env: {
        GATEHOUSE_ENV: 'production',
        GATEHOUSE_SMTP_URL: 'smtp://127.0.0.1:1',
        GATEHOUSE_PUBLIC_URL: 'https://id.example.com',
      },
    });
    try {
      assert.doesNotThrow(() => t.services.requireMailDelivery());
      assert.equal(t.services.mailSender?.delivery, 'smtp');
    } finally {
      await t.close();
    }
  });
});
