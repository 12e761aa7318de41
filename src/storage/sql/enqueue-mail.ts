import type { Kysely, Transaction } from 'kysely';
import type { OutgoingMail } from '../../domain/mail/outgoing-mail.ts';
import type { Database } from './database.ts';
import { toDbTime } from './db-time.ts';

/**
 * Writes `mail` to the outbox as `queued`, due at `now`, on `db`: pass the transaction of the
 * change that causes the message, so the two commit or roll back together (API.md 8: "the
 * token row and its mail in one transaction"). Returns the outbox id.
 *
 * ```ts
 * await db.transaction().execute(async (trx) => {
 *   await trx.insertInto('reset_tokens').values(row).execute();
 *   await enqueueMail(trx, mail, now);
 * });
 * ```
 *
 * After the commit, call `Services.mailQueued()` (or the sender's `wake()`) so the sender
 * delivers at once instead of at its next poll.
 */
export async function enqueueMail(
  db: Kysely<Database> | Transaction<Database>,
  mail: OutgoingMail,
  now: Date,
): Promise<number> {
  const at = toDbTime(now);
  const row = await db
    .insertInto('mail_outbox')
    .values({
      recipient: mail.to,
      subject: mail.subject,
      text_body: mail.text,
      html_body: mail.html,
      kind: mail.kind,
      status: 'queued',
      next_attempt_at: at,
      created_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}
