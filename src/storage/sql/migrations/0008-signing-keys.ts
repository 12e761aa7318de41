import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time, not typed against today's schema
export async function up(db: Kysely<any>): Promise<void> {
  const time = dialectOf(db) === 'postgres' ? 'timestamptz' : 'text';
  // The asymmetric signing keys of API.md 7 (domain/tokens/signing-key-repository.ts).
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    // base64 PKCS#8 DER when private_key_encryption is 'none', else the AES-256-GCM sealed text.
    .addColumn('private_key', 'text', (c) => c.notNull())
    .addColumn('private_key_encryption', 'text', (c) =>
      c.notNull().check(sql`private_key_encryption in ('none', 'aes-256-gcm')`),
    )
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('activated_at', time, (c) => c.notNull())
    .addColumn('retired_at', time)
    .execute();
  // At most one active key per algorithm, whatever instances do at once: the index decides
  // the race of first starts (insert ... on conflict do nothing) and of rotations.
  await db.schema
    .createIndex('signing_keys_one_active')
    .on('signing_keys')
    .column('alg')
    .unique()
    .where(sql.ref('retired_at'), 'is', null)
    .execute();
}
