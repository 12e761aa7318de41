import type { Kysely } from 'kysely';
import type { SettingsRepository } from '../../domain/tokens/signing-key.ts';
import type { Database } from './database.ts';

export class SqlSettingsRepository implements SettingsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async getOrInsert(key: string, candidate: string): Promise<string> {
    // Insert-if-absent then read: one statement decides the race, so every instance agrees.
    await this.#db
      .insertInto('settings')
      .values({ key, value: candidate })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const row = await this.#db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    return row.value;
  }
}
