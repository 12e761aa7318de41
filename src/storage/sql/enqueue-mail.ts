import type { Kysely, Transaction } from 'kysely';
import type { OutgoingMail } from '../../domain/mail/outgoing-mail.ts';
import type { Database } from './database.ts';
import { toDbTime } from './db-time.ts';
import { dialectOf, type SqlDialectName } from './dialect.ts';
import { prepareQuery } from './prepared-query.ts';

function prepareEnqueue(db: Kysely<Database>) {
  return prepareQuery<'to' | 'subject' | 'text' | 'html' | 'kind' | 'at'>()((param) =>
    db
      .insertInto('mail_outbox')
      .values({
        recipient: param('to'),
        subject: param('subject'),
        text_body: param('text'),
        html_body: param('html'),
        kind: param('kind'),
        status: 'queued',
        next_attempt_at: param('at'),
        created_at: param('at'),
      })
      .returning('id'),
  );
}

// Compiled once per dialect (prepared-query.ts), not per message: the statement depends on
// nothing else, and callers pass whichever transaction the change runs in.
const ENQUEUE = new Map<SqlDialectName, ReturnType<typeof prepareEnqueue>>();

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
  const dialect = dialectOf(db);
  let enqueue = ENQUEUE.get(dialect);
  if (!enqueue) {
    enqueue = prepareEnqueue(db);
    ENQUEUE.set(dialect, enqueue);
  }
  const at = toDbTime(now);
  const { rows } = await db.executeQuery(
    enqueue({
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      kind: mail.kind,
      at,
    }),
  );
  if (!rows[0]) throw new Error('INSERT ... RETURNING returned no row');
  return Number(rows[0].id);
}
