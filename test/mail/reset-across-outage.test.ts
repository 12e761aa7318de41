import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import type { MailSenderLog } from '../../src/mail/mail-sender.ts';
import {
  requestToken,
  STRONG_PASSWORD,
  uniqueEmail,
  confirmPasswordReset,
} from '../support/client.ts';
import { sharedStoreUrl } from '../support/raw-sql.ts';
import { smtpAppsPerSuite } from '../support/smtp-apps.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import type { TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait.ts';

// Mail delivery's promise: "stop the SMTP server, request a reset (202), start it again: the
// message arrives; with two Gatehouse instances [on one store] it arrives exactly once." Both
// instances run their sender the whole time, as `gatehouse serve` does.

const RESET_SUBJECT = 'Reset your password';
const quiet: MailSenderLog = { info: () => {}, warn: () => {}, error: () => {} };

for (const backend of STORAGE_BACKENDS) {
  describe(
    `a password reset across an SMTP outage, two instances on one ${backend.name} store`,
    {
      skip: backend.skip,
    },
    () => {
      const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
      const mail = smtpAppsPerSuite(async () => ({
        count: 2,
        databaseUrl: await sharedStoreUrl(backend),
        clock,
        mailSender: { pollIntervalMs: 10, batchSize: 5 },
      }));
      before(() => {
        for (const instance of mail().apps) instance.services.mailSender!.start(quiet);
      });

      it('answers 202 while SMTP is down, then delivers the link exactly once, and the link works', async () => {
        const { smtp, apps: instances } = mail();
        const [a, b] = instances as [TestApp, TestApp];
        const email = uniqueEmail('outage');
        await a.services.registerUser({ email, password: STRONG_PASSWORD });
        await smtp.stop();

        const requested = await a.app.inject({
          method: 'POST',
          url: '/password-reset',
          payload: { email },
        });
        assert.equal(requested.statusCode, 202, requested.body);
        const resetMail = async () =>
          (await a.services.listMail({ to: email, limit: 10 })).find(
            (m) => m.kind === 'password_reset',
          );
        // Both senders are running. Wait for the failed attempt to be put back (queued, due after
        // a backoff on the test clock), not just claimed: an attempt still in hand would finish
        // after the clock moves and set its next try past it.
        await waitFor('the reset mail was tried and put back', async () => {
          const mail = await resetMail();
          return mail?.status === 'queued' && mail.attempts >= 1;
        });
        assert.equal(smtp.received.length, 0);

        await smtp.start();
        clock.advance(120); // past the first backoff (5 s doubling), well inside the 30 min the link lives
        await waitFor('the reset mail arrives', () =>
          smtp.received.some((m) => m.header('subject') === RESET_SUBJECT),
        );
        await waitFor(
          'the reset mail is marked sent',
          async () => (await resetMail())?.status === 'sent',
        );
        // Stopping waits for any attempt in hand, so a duplicate in flight would have arrived.
        for (const instance of instances) await instance.services.mailSender!.stop();

        const resets = smtp.received.filter(
          (m) => m.envelope.to.includes(email) && m.header('subject') === RESET_SUBJECT,
        );
        assert.equal(resets.length, 1, 'exactly one reset message');

        const link = /(https:\/\/\S+\?token=[A-Za-z0-9_-]+)/.exec(resets[0]!.text ?? '')?.[1];
        assert.ok(link, 'a link in the message');
        const token = new URL(link.replace('#/', '')).searchParams.get('token')!;
        const newPassword = 'after the outage passphrase';
        const confirmed = await confirmPasswordReset(b.app, token, newPassword);
        assert.equal(confirmed.statusCode, 204, confirmed.body);
        assert.equal(
          (await requestToken(a.app, { username: email, password: newPassword })).statusCode,
          200,
        );
      });
    },
  );
}
