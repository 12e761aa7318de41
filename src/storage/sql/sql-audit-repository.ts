import type { Kysely, Selectable } from 'kysely';
import type {
  AuditDetails,
  AuditEntry,
  AuditEvent,
  AuditFilters,
  AuditLog,
} from '../../domain/audit/audit-log.ts';
import { toDate, toDbTime, type AuditEventsTable, type Database } from './database.ts';
import { prepareQuery } from './prepared-query.ts';
import { kyselyRunner, type QueryRunner } from './run-query.ts';

function toDetails(text: string | null): AuditDetails | null {
  if (text === null) return null;
  const parsed: unknown = JSON.parse(text);
  return parsed !== null && typeof parsed === 'object' ? (parsed as AuditDetails) : null;
}

function toEntry(row: Selectable<AuditEventsTable>): AuditEntry {
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

// Every login, refresh and registration writes one, so it is compiled once (prepared-query.ts).
function prepareRecord(db: Kysely<Database>) {
  return prepareQuery<
    'type' | 'createdAt' | 'actorId' | 'subjectId' | 'email' | 'ip' | 'userAgent' | 'details'
  >((param) =>
    db.insertInto('audit_events').values({
      type: param('type'),
      created_at: param('createdAt'),
      actor_id: param('actorId'),
      subject_id: param('subjectId'),
      email: param('email'),
      ip: param('ip'),
      user_agent: param('userAgent'),
      details: param('details'),
    }),
  );
}

export class SqlAuditRepository implements AuditLog {
  readonly #db: Kysely<Database>;
  readonly #run: QueryRunner;
  readonly #record: ReturnType<typeof prepareRecord>;

  constructor(db: Kysely<Database>, run: QueryRunner = kyselyRunner(db)) {
    this.#db = db;
    this.#run = run;
    this.#record = prepareRecord(db);
  }

  async record(event: AuditEvent): Promise<void> {
    await this.#run(
      this.#record({
        type: event.type,
        createdAt: toDbTime(event.createdAt),
        actorId: event.actorId,
        subjectId: event.subjectId,
        email: event.email,
        ip: event.ip,
        userAgent: event.userAgent,
        details: event.details === null ? null : JSON.stringify(event.details),
      }),
    );
  }

  async list(
    filters: AuditFilters,
    page: { limit: number; beforeId?: number },
  ): Promise<AuditEntry[]> {
    let query = this.#db
      .selectFrom('audit_events')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(page.limit);
    if (page.beforeId !== undefined) query = query.where('id', '<', page.beforeId);
    const { userId, type, since, until } = filters;
    if (userId !== undefined) {
      query = query.where((eb) =>
        eb.or([eb('subject_id', '=', userId), eb('actor_id', '=', userId)]),
      );
    }
    if (type !== undefined) query = query.where('type', '=', type);
    // Times are ISO 8601 UTC text on SQLite (ordered as strings) and timestamptz on Postgres.
    if (since !== undefined) query = query.where('created_at', '>=', toDbTime(since));
    if (until !== undefined) query = query.where('created_at', '<', toDbTime(until));
    return (await query.execute()).map(toEntry);
  }
}
