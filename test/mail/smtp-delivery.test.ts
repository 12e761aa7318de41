import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import { renderMailTemplate } from '../../src/mail/mail-templates.ts';
import { MAIL_PUBLIC_URL as PUBLIC_URL, startSmtpApps } from '../support/smtp-apps.ts';
import type { TestSmtpServer } from '../support/smtp-server.ts';
import { uniqueEmail } from '../support/client.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

function testMessage(to: string) {
  return renderMailTemplate('test-message', {
    to,
    kind: 'test_message',
    values: { public_url: `${PUBLIC_URL}/` },
  });
}

describe('mail delivery over SMTP', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let close: (() => Promise<void>) | undefined;
  const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
  before(async () => {
    ({
      smtp,
      app: t,
      close,
    } = await startSmtpApps({
      clock,
      env: { GATEHOUSE_MAIL_MAX_AGE: '3600' },
      // The top of each backoff step, so the schedule can be asserted.
      mailSender: { random: () => 0.999_999 },
    }));
  });
  after(() => close?.());
  beforeEach(async () => {
    smtp.refuseRecipients(undefined);
    await smtp.start();
  });

  const sender = () => {
    assert.ok(t.services.mailSender, 'a sender exists with GATEHOUSE_SMTP_URL');
    return t.services.mailSender;
  };

  it('delivers a queued message with From, To, Subject, Date, Message-ID and text and HTML parts', async () => {
    const to = uniqueEmail('delivered');
    const id = await t.services.sendMail(testMessage(to));
    const before = smtp.received.length;
    assert.equal(await sender().deliverDue(), 1);
    const [mail] = (await smtp.waitForCount(before + 1)).slice(before);
    assert.ok(mail);
    assert.deepEqual(mail.envelope, { from: 'no-reply@id.example.com', to: [to] });
    assert.equal(mail.header('from'), 'Gatehouse <no-reply@id.example.com>');
    assert.equal(mail.header('to'), to);
    assert.equal(mail.header('subject'), 'Gatehouse test message');
    assert.equal(mail.header('mime-version'), '1.0');
    assert.equal(mail.header('auto-submitted'), 'auto-generated');
    assert.equal(new Date(mail.header('date') ?? '').getTime(), clock.now().getTime());
    assert.match(
      mail.header('message-id') ?? '',
      new RegExp(`^<${id}\\.[0-9a-z]+@id\\.example\\.com>$`),
    );
    assert.match(mail.contentType, /^multipart\/alternative; boundary=/);
    assert.equal(mail.parts.length, 2);
    assert.match(mail.parts[0]!.contentType, /^text\/plain; charset=utf-8/i);
    assert.match(mail.parts[1]!.contentType, /^text\/html; charset=utf-8/i);
    assert.match(mail.text ?? '', /mail delivery works/);
    assert.match(mail.text ?? '', /https:\/\/id\.example\.com\//);
    assert.match(mail.html ?? '', /<a href="https:\/\/id\.example\.com\/">Open Gatehouse<\/a>/);
    assert.doesNotMatch(mail.html ?? '', /<img|src=/i);

    const row = await t.services.getMail(id);
    assert.equal(row?.status, 'sent');
    assert.equal(row?.attempts, 1);
    assert.equal(row?.text, null, 'a sent message keeps no body');
  });

  it('keeps a message queued while SMTP is down, backing off, and delivers it once SMTP is back', async () => {
    await smtp.stop();
    const to = uniqueEmail('outage');
    // Enqueueing never touches SMTP: the request that causes a message does not fail.
    const id = await t.services.sendMail(testMessage(to));
    const start = clock.now().getTime();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      assert.equal(await sender().deliverDue(), 1);
      const row = await t.services.getMail(id);
      assert.equal(row?.status, 'queued');
      assert.equal(row?.attempts, attempt);
      assert.match(row?.lastError ?? '', /ECONNREFUSED/);
      delays.push(row!.nextAttemptAt.getTime() - clock.now().getTime());
      // Not due before its time...
      clock.advance((delays.at(-1)! - 1) / 1000);
      assert.equal(await sender().deliverDue(), 0);
      clock.advance(0.001);
    }
    // 5 s doubling: the cap of each step (full jitter draws below it; the test draws its top).
    assert.deepEqual(delays, [4_999, 9_999, 19_999, 39_999]);
    assert.ok(clock.now().getTime() - start > 70_000);

    const before = smtp.received.length;
    await smtp.start();
    assert.equal(await sender().deliverDue(), 1);
    const arrived = (await smtp.waitForCount(before + 1)).slice(before);
    assert.deepEqual(
      arrived.map((m) => m.header('to')),
      [to],
    );
    const row = await t.services.getMail(id);
    assert.equal(row?.status, 'sent');
    assert.equal(row?.attempts, 5);
  });

  it('gives up after the maximum age: failed, with the last error, and never sent later', async () => {
    await smtp.stop();
    const id = await t.services.sendMail(testMessage(uniqueEmail('given-up')));
    const created = clock.now().getTime();
    let rounds = 0;
    for (;;) {
      await sender().deliverDue();
      const row = await t.services.getMail(id);
      if (row?.status === 'failed') break;
      assert.equal(row?.status, 'queued');
      clock.advance((row.nextAttemptAt.getTime() - clock.now().getTime()) / 1000);
      assert.ok(++rounds < 100, 'gives up within a bounded number of attempts');
    }
    const failed = await t.services.getMail(id);
    assert.equal(clock.now().getTime() - created, 3600_000, 'the last attempt is at the deadline');
    assert.match(failed?.lastError ?? '', /ECONNREFUSED/);
    assert.equal(failed?.text, null);
    const listed = await t.services.listMail({ status: 'failed', limit: 10 });
    assert.ok(listed.some((m) => m.id === id));

    await smtp.start();
    const before = smtp.received.length;
    clock.advance(3600);
    assert.equal(await sender().deliverDue(), 0);
    assert.equal(smtp.received.length, before);
  });

  it('fails a message the server refuses for good (5yz to RCPT TO) at once, without retrying', async () => {
    smtp.refuseRecipients(550);
    const id = await t.services.sendMail(testMessage(uniqueEmail('refused')));
    assert.equal(await sender().deliverDue(), 1);
    const row = await t.services.getMail(id);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.attempts, 1);
    assert.match(row?.lastError ?? '', /550/);
  });

  it("takes over a crashed sender's claim once its lease has run out, and delivers it once", async () => {
    const to = uniqueEmail('taken-over');
    const id = await t.services.sendMail(testMessage(to));
    // Another instance claims it and dies before sending.
    const [stale] = await t.storage.mailOutbox.claimBatch({
      now: clock.now(),
      limit: 10,
      leaseMs: 600_000,
    });
    assert.equal(stale?.id, id);
    assert.equal(await sender().deliverDue(), 0, 'not while the lease holds');
    clock.advance(600);
    const before = smtp.received.length;
    assert.equal(await sender().deliverDue(), 1);
    const arrived = (await smtp.waitForCount(before + 1)).slice(before);
    assert.deepEqual(
      arrived.map((m) => m.header('to')),
      [to],
    );
    assert.equal((await t.services.getMail(id))?.status, 'sent');
    assert.equal(await t.storage.mailOutbox.markSent(stale, clock.now()), false);
  });

  it('stops after the message in hand and puts the rest of its batch back, due at once', async () => {
    const stopping = await createTestApp({
      clock,
      env: { GATEHOUSE_SMTP_URL: smtp.url, GATEHOUSE_PUBLIC_URL: PUBLIC_URL },
      mailSender: { batchSize: 3 },
    });
    try {
      const ids = [];
      for (let i = 0; i < 3; i++) {
        ids.push(await stopping.services.sendMail(testMessage(uniqueEmail('stopping'))));
      }
      const hold = smtp.hold();
      const before = smtp.received.length;
      stopping.services.mailSender!.start({ info: () => {}, warn: () => {}, error: () => {} });
      await hold.arrived;
      const stopped = stopping.services.mailSender!.stop();
      hold.release();
      await stopped;
      assert.equal(smtp.received.length, before + 1, 'the message in hand, and no other');
      const rows = await Promise.all(ids.map((id) => stopping.services.getMail(id)));
      assert.deepEqual(
        rows.map((r) => r?.status),
        ['sent', 'queued', 'queued'],
      );
      for (const row of rows.slice(1)) {
        assert.deepEqual(row?.nextAttemptAt, clock.now());
        assert.equal(row?.lastError, 'not attempted: the sender stopped');
      }
    } finally {
      await stopping.close();
    }
  });

  it('delivers at once when woken after an enqueue, without waiting for the next poll', async () => {
    const woken = await createTestApp({
      clock,
      env: { GATEHOUSE_SMTP_URL: smtp.url, GATEHOUSE_PUBLIC_URL: PUBLIC_URL },
      // A poll this slow would outlast the wait below: only the wake-up can deliver in time.
      mailSender: { pollIntervalMs: 3_600_000 },
    });
    try {
      const log = { info: () => {}, warn: () => {}, error: () => {} };
      woken.services.mailSender?.start(log);
      // Let the first round (an empty outbox) finish, so the loop is in its long sleep.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const to = uniqueEmail('woken');
      const before = smtp.received.length;
      await woken.services.sendMail(testMessage(to));
      const arrived = (await smtp.waitForCount(before + 1, 10_000)).slice(before);
      assert.equal(arrived[0]?.header('to'), to);
    } finally {
      await woken.close();
    }
  });
});
