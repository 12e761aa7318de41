import type { Kysely, Selectable } from 'kysely';
import type { StoredAuditContent } from '../../domain/audit/audit-chain.ts';
import type {
  AuditChainLink,
  AuditChainState,
  AuditDetails,
  AuditEntry,
  AuditEvent,
  AuditFilters,
  AuditLog,
} from '../../domain/audit/audit-log.ts';
import { normalizeEmail } from '../../domain/email-address.ts';
import { auditAppend, type AuditAppend } from './audit-chain-append.ts';
import type { AuditEventsTable, Database } from './database.ts';
import { toDate, toDbTime, toStoredText } from './db-time.ts';
import {
  kyselyBatchRunner,
  kyselyRunner,
  type BatchRunner,
  type QueryRunner,
} from './run-query.ts';

function toDetails(text: string | null): AuditDetails | null {
  if (text === null) return null;
  const parsed: unknown = JSON.parse(text);
  return parsed !== null && typeof parsed === 'object' ? (parsed as AuditDetails) : null;
}

/** The content exactly as stored, which is what the chain's hashes cover. */
function toStoredContent(row: Selectable<AuditEventsTable>): StoredAuditContent {
  return {
    type: row.type,
    createdAt: toStoredText(row.created_at),
    actorId: row.actor_id,
    subjectId: row.subject_id,
    email: row.email,
    ip: row.ip,
    userAgent: row.user_agent,
    details: row.details,
  };
}

function toEntry(
  row: Selectable<AuditEventsTable>,
): Omit<AuditEntry, 'actorEmail' | 'subjectEmail'> {
  return {
    id: Number(row.id),
    type: row.type,
    createdAt: toDate(row.created_at),
    actorId: row.actor_id === null ? null : Number(row.actor_id),
    subjectId: row.subject_id === null ? null : Number(row.subject_id),
    email: row.email,
    ip: row.ip,
    userAgent: row.user_agent,
    details: toDetails(row.details),
  };
}

export class SqlAuditRepository implements AuditLog {
  readonly #db: Kysely<Database>;
  // Every login, refresh and registration appends one.
  readonly #append: AuditAppend;

  constructor(
    db: Kysely<Database>,
    run: QueryRunner = kyselyRunner(db),
    runBatch: BatchRunner = kyselyBatchRunner(db),
  ) {
    this.#db = db;
    this.#append = auditAppend(db, run, runBatch);
  }

  async record(event: AuditEvent): Promise<void> {
    const content: StoredAuditContent = {
      type: event.type,
      createdAt: toDbTime(event.createdAt),
      actorId: event.actorId,
      subjectId: event.subjectId,
      email: event.email,
      ip: event.ip,
      userAgent: event.userAgent,
      details: event.details === null ? null : JSON.stringify(event.details),
    };
    await this.#append(content);
  }

  async chainState(): Promise<AuditChainState | undefined> {
    const row = await this.#db.selectFrom('audit_chain').selectAll().executeTakeFirst();
    if (!row) return undefined;
    return {
      anchorSeq: Number(row.anchor_seq),
      anchorHash: row.anchor_hash,
      headSeq: Number(row.seq),
      headHash: row.hash,
      legacyMaxId: Number(row.legacy_max_id),
    };
  }

  async chainLinks(afterSeq: number, limit: number): Promise<AuditChainLink[]> {
    const rows = await this.#db
      .selectFrom('audit_events')
      .selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      id: Number(row.id),
      seq: Number(row.seq),
      prevHash: row.prev_hash ?? '',
      hash: row.hash ?? '',
      content: toStoredContent(row),
    }));
  }

  async unchainedEntries(
    legacyMaxId: number,
  ): Promise<{ legacy: number; strayId: number | undefined }> {
    const unchained = this.#db.selectFrom('audit_events').where('seq', 'is', null);
    const { legacy } = await unchained
      .select((eb) => eb.fn.countAll<number | string>().as('legacy'))
      .where('id', '<=', legacyMaxId)
      .executeTakeFirstOrThrow();
    const stray = await unchained
      .select('id')
      .where('id', '>', legacyMaxId)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return { legacy: Number(legacy), strayId: stray === undefined ? undefined : Number(stray.id) };
  }

  async list(
    filters: AuditFilters,
    page: { limit: number; beforeId?: number },
  ): Promise<AuditEntry[]> {
    // The emails the actor and subject accounts hold now: null once an account is deleted
    // (the entry's own `email` keeps what was recorded then).
    let query = this.#db
      .selectFrom('audit_events')
      .leftJoin('users as actor', 'actor.id', 'audit_events.actor_id')
      .leftJoin('users as subject', 'subject.id', 'audit_events.subject_id')
      .selectAll('audit_events')
      .select(['actor.email as actor_email', 'subject.email as subject_email'])
      .orderBy('audit_events.id', 'desc')
      .limit(page.limit);
    if (page.beforeId !== undefined) query = query.where('audit_events.id', '<', page.beforeId);
    const { userId, userEmail, type, since, until } = filters;
    if (userId !== undefined) {
      query = query.where((eb) =>
        eb.or([
          eb('audit_events.subject_id', '=', userId),
          eb('audit_events.actor_id', '=', userId),
        ]),
      );
    }
    if (userEmail !== undefined) {
      const email = normalizeEmail(userEmail);
      query = query.where((eb) =>
        eb.or([
          eb('subject.email_normalized', '=', email),
          eb('actor.email_normalized', '=', email),
          eb(eb.fn('lower', ['audit_events.email']), '=', email),
        ]),
      );
    }
    if (type !== undefined) query = query.where('audit_events.type', '=', type);
    // Times are ISO 8601 UTC text on SQLite (ordered as strings) and timestamptz on Postgres.
    if (since !== undefined) query = query.where('audit_events.created_at', '>=', toDbTime(since));
    if (until !== undefined) query = query.where('audit_events.created_at', '<', toDbTime(until));
    return (await query.execute()).map((row) => ({
      ...toEntry(row),
      actorEmail: row.actor_email,
      subjectEmail: row.subject_email,
    }));
  }
}
