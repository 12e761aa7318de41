import type { Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../dialect.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time, not typed against today's schema
export async function up(db: Kysely<any>): Promise<void> {
  const { timestamp } = columnTypes(db);
  const postgres = dialectOf(db) === 'postgres';
  // Registered API clients, the resource servers allowed to call POST /introspect
  // (RFC 7662 2.1). The secret is kept only as its SHA-256 (domain/clients/api-client.ts).
  await db.schema
    .createTable('api_clients')
    .addColumn('id', postgres ? 'serial' : 'integer', (c) =>
      postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('client_id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();
}
