import assert from 'node:assert/strict';
import type { MailKind } from '../../src/domain/mail/outgoing-mail.ts';
import type { OutboxMessage } from '../../src/domain/mail/mail-outbox.ts';
import type { Storage } from '../../src/storage/open-storage.ts';

/** The messages queued for `to` of `kind`, newest first (read from the outbox, as the sender would). */
export async function queuedMail(
  storage: Storage,
  to: string,
  kind?: MailKind,
): Promise<OutboxMessage[]> {
  const all = await storage.mailOutbox.list({ to, limit: 100 });
  return all.filter((m) => kind === undefined || m.kind === kind).sort((a, b) => b.id - a.id);
}

/**
 * The link of the newest message of `kind` to `to`: taken from the text part, and checked to
 * be the same in the HTML part. Returns the link and the token in its fragment.
 */
export async function linkFrom(
  storage: Storage,
  to: string,
  kind: MailKind,
): Promise<{ link: string; token: string; message: OutboxMessage }> {
  const [message] = await queuedMail(storage, to, kind);
  assert.ok(message, `no ${kind} message to ${to}`);
  const link = /(https?:\/\/\S+#\/[a-z-]+\?token=[A-Za-z0-9_-]+)/.exec(message.text ?? '')?.[1];
  assert.ok(link, `no link in the text part of ${kind}`);
  assert.ok(message.html?.includes(`href="${link}"`), 'the HTML part links the same URL');
  const token = new URLSearchParams(link.split('?')[1]).get('token');
  assert.ok(token);
  return { link, token, message };
}
