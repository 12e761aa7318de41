import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  bearer,
  passwordLogin,
  requestToken,
  STRONG_PASSWORD,
  uniqueEmail,
  me,
} from '../support/client.ts';
import { MAIL_PUBLIC_URL as PUBLIC_URL, startSmtpApps } from '../support/smtp-apps.ts';
import type { ReceivedMail, TestSmtpServer } from '../support/smtp-server.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import type { TestApp } from '../support/test-app.ts';

// API.md 8 end to end over a real SMTP server in this process: each flow's message is
// delivered by the sender, parsed (MIME, both parts), and its link followed as a user would.

const NEW_PASSWORD = 'recovered over smtp passphrase';

for (const backend of STORAGE_BACKENDS) {
  describe(`account mail over SMTP on ${backend.name}`, { skip: backend.skip }, () => {
    let smtp: TestSmtpServer;
    let t: TestApp;
    let close: (() => Promise<void>) | undefined;
    before(async () => {
      ({ smtp, app: t, close } = await startSmtpApps({ databaseUrl: await backend.freshUrl() }));
    });
    after(() => close?.());

    /** Delivers what is due and returns the newest message received for `to`. */
    async function receive(to: string, subject: string): Promise<ReceivedMail> {
      await t.services.mailSender!.deliverDue();
      const mail = smtp.received.findLast(
        (m) => m.envelope.to.includes(to) && m.header('subject') === subject,
      );
      assert.ok(mail, `no "${subject}" for ${to}`);
      return mail;
    }

    /** The one link of the message, read from both parts, with its token. */
    function linkOf(mail: ReceivedMail): { link: string; token: string } {
      const link = /(https:\/\/\S+\?token=[A-Za-z0-9_-]+)/.exec(mail.text ?? '')?.[1];
      assert.ok(link, 'a link in the text part');
      assert.ok(mail.html?.includes(`href="${link}"`), 'the same link in the HTML part');
      assert.ok(
        link.startsWith(`${PUBLIC_URL}/#/`),
        'absolute to the public URL, token in the fragment',
      );
      assert.doesNotMatch(mail.html ?? '', /<img|src=/i, 'no remote content');
      return { link, token: new URL(link.replace('#/', '')).searchParams.get('token')! };
    }

    const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'POST', url, payload, headers });

    it('recovers a forgotten password from the link in the delivered message', async () => {
      const email = uniqueEmail('forgot');
      await t.services.registerUser({ email, password: STRONG_PASSWORD });
      assert.equal((await post('/password-reset', { email })).statusCode, 202);
      const { link, token } = linkOf(await receive(email, 'Reset your password'));
      assert.match(link, /#\/reset-password\?token=/);
      const done = await post('/password-reset/confirm', { token, new_password: NEW_PASSWORD });
      assert.equal(done.statusCode, 204, done.body);
      assert.equal(
        (await requestToken(t.app, { username: email, password: NEW_PASSWORD })).statusCode,
        200,
      );
      const notice = await receive(email, 'Your password was changed');
      assert.match(notice.text ?? '', /every session was signed out/);
    });

    it('verifies the address registration mailed', async () => {
      const email = uniqueEmail('fresh');
      assert.equal((await post('/users/', { email, password: STRONG_PASSWORD })).statusCode, 200);
      const { token } = linkOf(await receive(email, 'Confirm your email address'));
      assert.equal((await post('/verify-email', { token })).statusCode, 204);
      const { accessToken } = await passwordLogin(t.app, email);
      const profile = await me(t.app, accessToken);
      assert.equal(profile.json().email_verified, true);
    });

    it('changes the address through the new mailbox and tells the old one', async () => {
      const email = uniqueEmail('old');
      const next = uniqueEmail('new');
      await t.services.registerUser({ email, password: STRONG_PASSWORD });
      const { accessToken } = await passwordLogin(t.app, email);
      const asked = await post(
        '/users/me/email',
        { new_email: next, current_password: STRONG_PASSWORD },
        bearer(accessToken),
      );
      assert.equal(asked.statusCode, 202);
      const notice = await receive(email, 'A change of your email address was requested');
      assert.ok(notice.text?.includes(next));
      const { token } = linkOf(await receive(next, 'Confirm your new email address'));
      assert.equal((await post('/verify-email', { token })).statusCode, 204);
      assert.equal((await requestToken(t.app, { username: next })).statusCode, 200);
    });
  });
}
