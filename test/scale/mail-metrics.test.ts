import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import { smtpAppsPerSuite } from '../support/smtp-apps.ts';

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics: mail', () => {
  const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
  const mail = smtpAppsPerSuite(async () => ({ clock, env: { GATEHOUSE_MAIL_MAX_AGE: '60' } }));

  it('reports the outbox by status and this process’s deliveries by outcome', async () => {
    const { smtp, app: t } = mail();
    const sender = t.services.mailSender!;
    await t.services.sendTestMail('sent@example.com');
    await sender.deliverDue();
    await smtp.waitForCount(1);

    await smtp.stop();
    const failing = await t.services.sendTestMail('failed@example.com');
    for (let i = 0; i < 50 && (await t.services.getMail(failing))?.status !== 'failed'; i++) {
      await sender.deliverDue();
      clock.advance(30);
    }
    await t.services.sendTestMail('queued@example.com');

    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    const text = response.body;
    assert.equal(sample(text, 'gatehouse_mail_outbox', 'status="sent"'), 1);
    assert.equal(sample(text, 'gatehouse_mail_outbox', 'status="failed"'), 1);
    assert.equal(sample(text, 'gatehouse_mail_outbox', 'status="queued"'), 1);
    assert.equal(sample(text, 'gatehouse_mail_outbox', 'status="sending"'), 0);
    assert.equal(sample(text, 'gatehouse_mail_deliveries_total', 'outcome="sent"'), 1);
    assert.equal(sample(text, 'gatehouse_mail_deliveries_total', 'outcome="failed"'), 1);
    const retried = sample(text, 'gatehouse_mail_deliveries_total', 'outcome="retried"');
    assert.ok(retried !== undefined && retried >= 1, `${retried}`);

    // Counters only grow: a second scrape reports the same totals, not their double.
    const again = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(again, 'gatehouse_mail_deliveries_total', 'outcome="sent"'), 1);
  });
});
