import { hash, type Algorithm } from '@node-rs/argon2';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { openStorage } from '../src/storage/open-storage.ts';

export const BENCH_PASSWORD = 'bench password 123';
const BATCH = 1000;

export function benchEmail(i: number): string {
  return `bench-${i}@example.com`;
}

/**
 * Migrates a fresh store and bulk-inserts `count` users straight into the table (not through
 * the API): one argon2id hash of the bench password, made once and shared by every row.
 */
export async function seedUsers(
  databaseUrl: string,
  count: number,
  params: { memoryCost: number; timeCost: number; parallelism: number },
): Promise<void> {
  const storage = await openStorage(databaseUrl);
  await storage.migrate();
  await storage.close();
  const passwordHash = await hash(BENCH_PASSWORD, { algorithm: 2 as Algorithm, ...params });
  const createdAt = new Date().toISOString();
  const row = (i: number) => [benchEmail(i), benchEmail(i), passwordHash, 'user', createdAt];

  if (databaseUrl.startsWith('sqlite:')) {
    const db = new SqliteDatabase(databaseUrl.slice('sqlite:'.length));
    const insert = db.prepare(
      'insert into users (email, email_normalized, password_hash, role, created_at) values (?, ?, ?, ?, ?)',
    );
    const insertBatch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(...row(i));
    });
    for (let from = 0; from < count; from += 50_000)
      insertBatch(from, Math.min(count, from + 50_000));
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin');
    for (let from = 0; from < count; from += BATCH) {
      const to = Math.min(count, from + BATCH);
      const values: string[] = [];
      const params: string[] = [];
      for (let i = from; i < to; i++) {
        const base = params.length;
        values.push(`($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5})`);
        params.push(...row(i));
      }
      await client.query(
        `insert into users (email, email_normalized, password_hash, role, created_at) values ${values.join(',')}`,
        params,
      );
    }
    await client.query('commit');
  } finally {
    await client.end();
  }
}
