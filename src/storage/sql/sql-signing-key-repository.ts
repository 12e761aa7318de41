import type { Kysely, Selectable } from 'kysely';
import type { AsymmetricAlgorithm } from '../../domain/tokens/signing-algorithm.ts';
import type {
  PrivateKeyChange,
  PrivateKeyEncryption,
  SigningKeyRepository,
  StoredSigningKey,
} from '../../domain/tokens/signing-key-repository.ts';
import type { Database, SigningKeysTable } from './database.ts';
import { toDate, toDateOrNull, toDbTime, toDbTimeOrNull } from './db-time.ts';
import { prepareQuery } from './prepared-query.ts';
import { kyselyRunner, type QueryRunner } from './run-query.ts';
import { inWriteTransaction } from './write-transaction.ts';

function toKey(row: Selectable<SigningKeysTable>): StoredSigningKey {
  return {
    kid: row.kid,
    alg: row.alg as AsymmetricAlgorithm,
    publicJwk: row.public_jwk,
    privateKey: row.private_key,
    encryption: row.private_key_encryption as PrivateKeyEncryption,
    createdAt: toDate(row.created_at),
    activatedAt: toDate(row.activated_at),
    retiredAt: toDateOrNull(row.retired_at),
  };
}

function toRow(key: StoredSigningKey): SigningKeysTable {
  return {
    kid: key.kid,
    alg: key.alg,
    public_jwk: key.publicJwk,
    private_key: key.privateKey,
    private_key_encryption: key.encryption,
    created_at: toDbTime(key.createdAt),
    activated_at: toDbTime(key.activatedAt),
    retired_at: toDbTimeOrNull(key.retiredAt),
  };
}

/** SigningKeyRepository on SQLite and Postgres (migration 0008). */
export class SqlSigningKeyRepository implements SigningKeyRepository {
  readonly #db: Kysely<Database>;
  readonly #run: QueryRunner;
  // Runs before every signature: compiled once, and on SQLite called as a prepared statement
  // (run-query.ts). `alg = ? and retired_at is null` is exactly the partial unique index
  // signing_keys_one_active, so it reads one index entry and one row.
  readonly #activeKid;

  constructor(db: Kysely<Database>, run: QueryRunner = kyselyRunner(db)) {
    this.#db = db;
    this.#run = run;
    this.#activeKid = prepareQuery<'alg'>()((param) =>
      db
        .selectFrom('signing_keys')
        .select('kid')
        .where('alg', '=', param<string>('alg'))
        .where('retired_at', 'is', null),
    );
  }

  async activeKid(alg: AsymmetricAlgorithm): Promise<string | undefined> {
    const { rows } = await this.#run(this.#activeKid({ alg }));
    return rows[0]?.kid;
  }

  async listUsable(alg: AsymmetricAlgorithm, retiredAfter: Date): Promise<StoredSigningKey[]> {
    const rows = await this.#db
      .selectFrom('signing_keys')
      .selectAll()
      .where('alg', '=', alg)
      .where((eb) =>
        eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', toDbTime(retiredAfter))]),
      )
      .orderBy('activated_at')
      .orderBy('kid')
      .execute();
    return rows.map(toKey);
  }

  async listAll(): Promise<StoredSigningKey[]> {
    const rows = await this.#db
      .selectFrom('signing_keys')
      .selectAll()
      .orderBy('activated_at')
      .orderBy('kid')
      .execute();
    return rows.map(toKey);
  }

  async insertIfNoneActive(candidate: StoredSigningKey): Promise<StoredSigningKey> {
    // One statement decides the race: the partial unique index signing_keys_one_active turns
    // every insert but the first into a no-op.
    await this.#db
      .insertInto('signing_keys')
      .values(toRow({ ...candidate, retiredAt: null }))
      .onConflict((oc) => oc.doNothing())
      .execute();
    const row = await this.#db
      .selectFrom('signing_keys')
      .selectAll()
      .where('alg', '=', candidate.alg)
      .where('retired_at', 'is', null)
      .executeTakeFirstOrThrow();
    return toKey(row);
  }

  async rotate(expectedActiveKid: string, candidate: StoredSigningKey): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      // First statement a write: it takes the row lock (Postgres) or the write lock (SQLite)
      // before anything is read, so a concurrent rotation waits, then matches no row.
      const retired = await trx
        .updateTable('signing_keys')
        .set({ retired_at: toDbTime(candidate.activatedAt) })
        .where('kid', '=', expectedActiveKid)
        .where('alg', '=', candidate.alg)
        .where('retired_at', 'is', null)
        .executeTakeFirst();
      if (retired.numUpdatedRows !== 1n) return false;
      await trx
        .insertInto('signing_keys')
        .values(toRow({ ...candidate, retiredAt: null }))
        .execute();
      return true;
    });
  }

  async deleteRetiredBefore(retiredBefore: Date): Promise<number> {
    const result = await this.#db
      .deleteFrom('signing_keys')
      .where('retired_at', 'is not', null)
      .where('retired_at', '<', toDbTime(retiredBefore))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteRetired(kid: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('signing_keys')
      .where('kid', '=', kid)
      .where('retired_at', 'is not', null)
      .executeTakeFirst();
    return result.numDeletedRows === 1n;
  }

  async replacePrivateKeys(changes: readonly PrivateKeyChange[]): Promise<number> {
    if (changes.length === 0) return 0;
    return inWriteTransaction(this.#db, async (trx) => {
      let replaced = 0;
      for (const change of changes) {
        const result = await trx
          .updateTable('signing_keys')
          .set({ private_key: change.privateKey, private_key_encryption: change.encryption })
          .where('kid', '=', change.kid)
          .where('private_key', '=', change.fromPrivateKey)
          .executeTakeFirst();
        replaced += Number(result.numUpdatedRows);
      }
      return replaced;
    });
  }
}
