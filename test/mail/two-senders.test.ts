import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import type { MailSenderLog } from '../../src/mail/mail-sender.ts';
import { renderMailTemplate } from '../../src/mail/mail-templates.ts';
import { sharedStoreUrl } from '../support/raw-sql.ts';
import { smtpAppsPerSuite } from '../support/smtp-apps.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { waitFor } from '../support/wait.ts';

const MESSAGES = 50;
const quiet: MailSenderLog = { info: () => {}, warn: () => {}, error: () => {} };

for (const backend of STORAGE_BACKENDS) {
  describe(`two instances' senders on one ${backend.name} store`, { skip: backend.skip }, () => {
    const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
    const mail = smtpAppsPerSuite(async () => ({
      count: 2,
      databaseUrl: await sharedStoreUrl(backend),
      clock,
      // Small batches and a fast poll, so the two senders compete for the same rows.
      mailSender: { pollIntervalMs: 10, batchSize: 3 },
    }));

    it('deliver each of 50 messages exactly once across an SMTP outage', async () => {
      const { smtp, apps: instances } = mail();
      await smtp.stop();
      const ids: number[] = [];
      for (let i = 0; i < MESSAGES; i++) {
        const instance = instances[i % 2]!;
        ids.push(
          await instance.services.sendMail(
            renderMailTemplate('test-message', {
              to: `recipient-${i}@example.com`,
              kind: 'test_message',
              values: { public_url: 'https://id.example.com/' },
            }),
          ),
        );
      }
      for (const instance of instances) instance.services.mailSender?.start(quiet);
      const [a] = instances;
      // Every message tried and put back for later while the server is down.
      await waitFor('every message has failed once', async () => {
        const queued = await a!.services.listMail({ status: 'queued', limit: 1000 });
        return queued.length === MESSAGES && queued.every((m) => m.attempts >= 1);
      });
      assert.equal(smtp.received.length, 0);

      await smtp.start();
      clock.advance(60);
      await smtp.waitForCount(MESSAGES, 30_000);
      await waitFor('every message is marked sent', async () => {
        const sent = await a!.services.listMail({ status: 'sent', limit: 1000 });
        return sent.length === MESSAGES;
      });
      // Stopping waits for any attempt in hand, so a duplicate in flight would have arrived.
      for (const instance of instances) await instance.services.mailSender?.stop();

      assert.equal(smtp.received.length, MESSAGES);
      const messageIds = new Set(smtp.received.map((m) => m.header('message-id')));
      assert.equal(messageIds.size, MESSAGES, 'no Message-ID twice');
      const recipients = new Set(smtp.received.map((m) => m.header('to')));
      assert.equal(recipients.size, MESSAGES, 'every recipient once');
      const outcomes = instances.map((i) => i.services.mailSender!.outcomes);
      assert.equal(outcomes[0]!.sent + outcomes[1]!.sent, MESSAGES);
      assert.ok(
        outcomes[0]!.retried + outcomes[1]!.retried >= MESSAGES,
        'each message failed at least once during the outage',
      );
    });
  });
}
