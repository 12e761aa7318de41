import { randomUUID } from 'node:crypto';
import { sql, type ExpressionBuilder, type Kysely, type Selectable, type Updateable } from 'kysely';
import type {
  ClaimedMail,
  MailOutbox,
  MailStatus,
  OutboxFilter,
  OutboxMessage,
} from '../../domain/mail/mail-outbox.ts';
import { MAIL_STATUSES } from '../../domain/mail/mail-outbox.ts';
import type { MailKind, OutgoingMail } from '../../domain/mail/outgoing-mail.ts';
import type { Database, MailOutboxTable } from './database.ts';
import { toDate, toDateOrNull, toDbTime } from './db-time.ts';
import { dialectOf } from './dialect.ts';
import { enqueueMail } from './enqueue-mail.ts';
import { kyselyRunner, type QueryRunner } from './run-query.ts';

type Row = Selectable<MailOutboxTable>;

function toMessage(row: Row): OutboxMessage {
  return {
    id: Number(row.id),
    to: row.recipient,
    subject: row.subject,
    text: row.text_body,
    html: row.html_body,
    kind: row.kind as MailKind,
    status: row.status as MailStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: toDate(row.next_attempt_at),
    lastError: row.last_error,
    createdAt: toDate(row.created_at),
    sentAt: toDateOrNull(row.sent_at),
  };
}

/** Due: queued and its time has come, or claimed by a sender whose lease has run out. */
function due(now: string) {
  return (eb: ExpressionBuilder<Database, 'mail_outbox'>) =>
    eb.or([
      eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', now)]),
      eb.and([eb('status', '=', 'sending'), eb('claimed_until', '<=', now)]),
    ]);
}

// Long enough for an SMTP reply or a stack trace's first line; the column is for operators.
const MAX_ERROR_LENGTH = 500;

export class SqlMailOutbox implements MailOutbox {
  readonly #db: Kysely<Database>;
  readonly #postgres: boolean;
  readonly #runUnsynced: QueryRunner;

  /**
   * `runUnsynced` takes the sender's writes (the claim and the four outcomes): on SQLite,
   * open-storage.ts gives sqliteUnsyncedRunner, so they cost no fsync. They need atomicity (the
   * claim stays exclusive: a NORMAL commit is as atomic and as visible to every connection as
   * a FULL one), not durability, because delivery is at least once (mail-sender.ts) and a
   * power loss can only move a row back to an earlier state of its own:
   * - a forgotten claim leaves the message due as before (or `sending` under a lease that runs
   *   out), so it is claimed again; on SQLite every sender runs on the machine that lost power,
   *   so none still holds the forgotten claim;
   * - a forgotten `sent` or `logged` is the gap the sender already has between the SMTP
   *   server's acceptance and that commit: the message goes out again, same Message-ID;
   * - a forgotten `queued` (retry) or `failed` means one more attempt.
   * The message itself is never lost: `enqueue`, and enqueueMail in the transaction of the
   * change that causes it, stay at the configured level. In WAL mode the next FULL commit
   * syncs these with it, and a power loss keeps a prefix of the commits, so nothing written
   * later survives without them.
   */
  constructor(db: Kysely<Database>, runUnsynced: QueryRunner = kyselyRunner(db)) {
    this.#db = db;
    this.#postgres = dialectOf(db) === 'postgres';
    this.#runUnsynced = runUnsynced;
  }

  enqueue(mail: OutgoingMail, now: Date): Promise<number> {
    return enqueueMail(this.#db, mail, now);
  }

  async claimBatch(claim: { now: Date; limit: number; leaseMs: number }): Promise<ClaimedMail[]> {
    const now = toDbTime(claim.now);
    const leaseEnd = new Date(claim.now.getTime() + claim.leaseMs);
    const claimedUntil = toDbTime(leaseEnd);
    const claimToken = randomUUID();
    // Postgres: rows another instance is claiming right now are skipped, not waited for; a row
    // claimed and committed meanwhile is re-checked against `due` (READ COMMITTED re-reads
    // locked rows), so it is not claimed twice. The candidates are a MATERIALIZED CTE: as an
    // `IN (subquery)` the planner may run the LIMITed subquery more than once and claim more
    // than `limit`. SQLite: the UPDATE is one statement under the database's single write
    // lock, which also holds against another process on the same file.
    const claimed = this.#db
      .with(
        (cte) => cte('candidates').materialized(),
        (db) => {
          const candidates = db
            .selectFrom('mail_outbox')
            .select('id')
            .where(due(now))
            .orderBy('next_attempt_at')
            .orderBy('id')
            .limit(claim.limit);
          return this.#postgres ? candidates.forUpdate().skipLocked() : candidates;
        },
      )
      .updateTable('mail_outbox')
      .set({
        status: 'sending',
        claimed_until: claimedUntil,
        claim_token: claimToken,
        attempts: sql<number>`attempts + 1`,
      })
      .where('id', 'in', (eb) => eb.selectFrom('candidates').select('candidates.id'))
      .where(due(now))
      .returningAll()
      .compile();
    const { rows } = await this.#runUnsynced(claimed);
    return rows
      .map((row) => ({
        ...toMessage(row),
        text: row.text_body ?? '',
        html: row.html_body ?? '',
        claimToken,
        claimedUntil: leaseEnd,
      }))
      .sort((a, b) => a.id - b.id);
  }

  async #finish(claim: ClaimedMail, changes: Updateable<MailOutboxTable>): Promise<boolean> {
    const finished = this.#db
      .updateTable('mail_outbox')
      .set({ claimed_until: null, claim_token: null, ...changes })
      .where('id', '=', claim.id)
      .where('status', '=', 'sending')
      .where('claim_token', '=', claim.claimToken)
      .compile();
    const { numAffectedRows } = await this.#runUnsynced(finished);
    return Number(numAffectedRows ?? 0) > 0;
  }

  markSent(claim: ClaimedMail, now: Date): Promise<boolean> {
    return this.#finish(claim, {
      status: 'sent',
      sent_at: toDbTime(now),
      text_body: null,
      html_body: null,
    });
  }

  markRetry(claim: ClaimedMail, retry: { nextAttemptAt: Date; error: string }): Promise<boolean> {
    return this.#finish(claim, {
      status: 'queued',
      next_attempt_at: toDbTime(retry.nextAttemptAt),
      last_error: retry.error.slice(0, MAX_ERROR_LENGTH),
    });
  }

  markFailed(claim: ClaimedMail, failure: { now: Date; error: string }): Promise<boolean> {
    return this.#finish(claim, {
      status: 'failed',
      last_error: failure.error.slice(0, MAX_ERROR_LENGTH),
      text_body: null,
      html_body: null,
    });
  }

  markLogged(claim: ClaimedMail, now: Date): Promise<boolean> {
    return this.#finish(claim, { status: 'logged', sent_at: toDbTime(now) });
  }

  async list(filter: OutboxFilter): Promise<OutboxMessage[]> {
    let query = this.#db.selectFrom('mail_outbox').selectAll().orderBy('id', 'desc');
    if (filter.to !== undefined) {
      query = query.where(sql<string>`lower(recipient)`, '=', filter.to.toLowerCase());
    }
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    const rows = await query.limit(filter.limit).execute();
    return rows.map(toMessage);
  }

  async get(id: number): Promise<OutboxMessage | undefined> {
    const row = await this.#db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toMessage(row);
  }

  async countByStatus(): Promise<Record<MailStatus, number>> {
    const rows = await this.#db
      .selectFrom('mail_outbox')
      .select(['status', (eb) => eb.fn.countAll<number | string>().as('count')])
      .groupBy('status')
      .execute();
    const counts = Object.fromEntries(MAIL_STATUSES.map((s) => [s, 0])) as Record<
      MailStatus,
      number
    >;
    for (const row of rows) {
      if ((MAIL_STATUSES as readonly string[]).includes(row.status)) {
        counts[row.status as MailStatus] = Number(row.count);
      }
    }
    return counts;
  }

  async purgeFinished(before: Date): Promise<number> {
    const result = await this.#db
      .deleteFrom('mail_outbox')
      .where('status', 'in', ['sent', 'failed', 'logged'])
      .where('created_at', '<', toDbTime(before))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
