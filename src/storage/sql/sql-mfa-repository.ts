import { sql, type Kysely, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import type {
  LiveMfaChallenge,
  MfaRepository,
  NewMfaChallenge,
  SecretEncryption,
  StoredTotpFactor,
  TotpSecretChange,
} from '../../domain/mfa/mfa-repository.ts';
import type { Database, TotpFactorsTable } from './database.ts';
import { toDate, toDateOrNull, toDbTime } from './db-time.ts';
import { dialectOf } from './dialect.ts';
import { prepareQuery } from './prepared-query.ts';
import { kyselyRunner, type QueryRunner } from './run-query.ts';
import { inWriteTransaction } from './write-transaction.ts';

/**
 * THE rule "user `userId` has a second factor", as one SQL boolean: a confirmed TOTP factor.
 * Passkeys (migration 0013) count too; both the password grant's check and the
 * `users.mfa_enabled` cache follow this one expression.
 */
export function secondFactorExists(userId: number): RawBuilder<SqlBool> {
  // API.md 9: any passkey is a second factor too (migration 0013).
  return sql<SqlBool>`(exists (select 1 from totp_factors where totp_factors.user_id = ${userId} and totp_factors.confirmed_at is not null) or exists (select 1 from passkeys where passkeys.user_id = ${userId}))`;
}

/** Rewrites the `users.mfa_enabled` cache from the factor tables, inside the caller's change. */
export async function refreshMfaEnabled(trx: Kysely<Database>, userId: number): Promise<void> {
  await trx
    .updateTable('users')
    .set({
      mfa_enabled: sql<boolean>`case when ${secondFactorExists(userId)} then true else false end`,
    })
    .where('id', '=', userId)
    .execute();
}

const toEncryption = (value: string): SecretEncryption =>
  value === 'aes-256-gcm' ? 'aes-256-gcm' : 'none';

function toTotpFactor(row: Selectable<TotpFactorsTable>): StoredTotpFactor {
  return {
    userId: Number(row.user_id),
    secret: row.secret,
    secretEncryption: toEncryption(row.secret_encryption),
    createdAt: toDate(row.created_at),
    confirmedAt: toDateOrNull(row.confirmed_at),
    lastUsedStep: Number(row.last_used_step),
  };
}

export class SqlMfaRepository implements MfaRepository {
  readonly #db: Kysely<Database>;
  readonly #run: QueryRunner;
  // Every password grant asks it: compiled once (prepared-query.ts), not built per login.
  readonly #hasSecondFactor;

  constructor(db: Kysely<Database>, run: QueryRunner = kyselyRunner(db)) {
    this.#db = db;
    this.#run = run;
    this.#hasSecondFactor = prepareQuery<'userId'>()((param) =>
      db.selectNoFrom(secondFactorExists(param<number>('userId')).as('present')),
    );
  }

  async hasSecondFactor(userId: number): Promise<boolean> {
    const { rows } = await this.#run(this.#hasSecondFactor({ userId }));
    // SQLite answers 0/1, Postgres a boolean.
    return Boolean(rows[0]?.present);
  }

  async findTotp(userId: number): Promise<StoredTotpFactor | undefined> {
    const row = await this.#db
      .selectFrom('totp_factors')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row && toTotpFactor(row);
  }

  async listTotpFactors(afterUserId: number, limit: number): Promise<StoredTotpFactor[]> {
    const rows = await this.#db
      .selectFrom('totp_factors')
      .selectAll()
      .where('user_id', '>', afterUserId)
      .orderBy('user_id')
      .limit(limit)
      .execute();
    return rows.map(toTotpFactor);
  }

  async replaceTotpSecrets(changes: readonly TotpSecretChange[]): Promise<number> {
    if (changes.length === 0) return 0;
    return inWriteTransaction(this.#db, async (trx) => {
      let replaced = 0;
      for (const change of changes) {
        const result = await trx
          .updateTable('totp_factors')
          .set({ secret: change.secret, secret_encryption: change.secretEncryption })
          .where('user_id', '=', change.userId)
          .where('secret', '=', change.fromSecret)
          .executeTakeFirst();
        replaced += Number(result.numUpdatedRows);
      }
      return replaced;
    });
  }

  startTotp(factor: {
    userId: number;
    secret: string;
    secretEncryption: SecretEncryption;
    createdAt: Date;
  }): Promise<boolean> {
    return inWriteTransaction(this.#db, async (trx) => {
      let lock = trx.selectFrom('users').select('id').where('id', '=', factor.userId);
      if (dialectOf(this.#db) === 'postgres') lock = lock.forNoKeyUpdate();
      if (!(await lock.executeTakeFirst())) return false;
      // A pending factor is replaced; a confirmed one stays (disable it first).
      await trx
        .deleteFrom('totp_factors')
        .where('user_id', '=', factor.userId)
        .where('confirmed_at', 'is', null)
        .execute();
      const inserted = await trx
        .insertInto('totp_factors')
        .values({
          user_id: factor.userId,
          secret: factor.secret,
          secret_encryption: factor.secretEncryption,
          created_at: toDbTime(factor.createdAt),
          confirmed_at: null,
        })
        .onConflict((oc) => oc.column('user_id').doNothing())
        .executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
    });
  }

  confirmTotp(
    userId: number,
    step: number,
    now: Date,
    recoveryCodeHashes: readonly string[],
  ): Promise<boolean> {
    return inWriteTransaction(this.#db, async (trx) => {
      const confirmed = await trx
        .updateTable('totp_factors')
        .set({ confirmed_at: toDbTime(now), last_used_step: step })
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is', null)
        .where('last_used_step', '<', step)
        .executeTakeFirst();
      if (Number(confirmed.numUpdatedRows) !== 1) return false;
      await writeRecoveryCodes(trx, userId, recoveryCodeHashes, now);
      await refreshMfaEnabled(trx, userId);
      return true;
    });
  }

  async useTotpStep(userId: number, step: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('totp_factors')
      .set({ last_used_step: step })
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is not', null)
      .where('last_used_step', '<', step)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async useRecoveryCode(userId: number, codeHash: string, now: Date): Promise<boolean> {
    const result = await this.#db
      .updateTable('recovery_codes')
      .set({ used_at: toDbTime(now) })
      .where('user_id', '=', userId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  replaceRecoveryCodes(userId: number, codeHashes: readonly string[], now: Date): Promise<boolean> {
    return inWriteTransaction(this.#db, async (trx) => {
      const factor = await trx
        .selectFrom('totp_factors')
        .select('user_id')
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is not', null)
        .executeTakeFirst();
      if (!factor) return false;
      await writeRecoveryCodes(trx, userId, codeHashes, now);
      return true;
    });
  }

  async countUnusedRecoveryCodes(userId: number): Promise<number> {
    const row = await this.#db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  deleteTotp(userId: number): Promise<boolean> {
    return inWriteTransaction(this.#db, async (trx) => {
      const deleted = await trx
        .deleteFrom('totp_factors')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
      await refreshMfaEnabled(trx, userId);
      return Number(deleted.numDeletedRows) > 0;
    });
  }

  resetFactors(userId: number): Promise<boolean> {
    return inWriteTransaction(this.#db, async (trx) => {
      const deleted = await trx
        .deleteFrom('totp_factors')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      const codes = await trx
        .deleteFrom('recovery_codes')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      await trx.deleteFrom('mfa_challenges').where('user_id', '=', userId).execute();
      // Passkeys are second factors too (API.md 9), and their pending challenges go with them.
      const passkeys = await trx
        .deleteFrom('passkeys')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      await trx.deleteFrom('webauthn_challenges').where('user_id', '=', userId).execute();
      await refreshMfaEnabled(trx, userId);
      return (
        Number(deleted.numDeletedRows) +
          Number(codes.numDeletedRows) +
          Number(passkeys.numDeletedRows) >
        0
      );
    });
  }

  async createChallenge(challenge: NewMfaChallenge): Promise<void> {
    await this.#db
      .insertInto('mfa_challenges')
      .values({
        token_hash: challenge.tokenHash,
        user_id: challenge.userId,
        scope: challenge.scope,
        session_scope: challenge.sessionScope,
        password_digest: challenge.passwordDigest,
        created_at: toDbTime(challenge.createdAt),
        expires_at: toDbTime(challenge.expiresAt),
        used_at: null,
      })
      .execute();
  }

  async attemptChallenge(
    tokenHash: string,
    now: Date,
    maxAttempts: number,
  ): Promise<LiveMfaChallenge | undefined> {
    const row = await this.#db
      .updateTable('mfa_challenges')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', toDbTime(now))
      .where('attempts', '<', maxAttempts)
      .returning(['user_id', 'scope', 'session_scope', 'password_digest', 'attempts'])
      .executeTakeFirst();
    return (
      row && {
        userId: Number(row.user_id),
        scope: row.scope,
        sessionScope: row.session_scope,
        passwordDigest: row.password_digest,
        attempts: Number(row.attempts),
      }
    );
  }

  async consumeChallenge(tokenHash: string, now: Date): Promise<boolean> {
    const result = await this.#db
      .updateTable('mfa_challenges')
      .set({ used_at: toDbTime(now) })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', toDbTime(now))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async purgeChallenges(before: Date): Promise<number> {
    const result = await this.#db
      .deleteFrom('mfa_challenges')
      .where('expires_at', '<', toDbTime(before))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

async function writeRecoveryCodes(
  trx: Kysely<Database>,
  userId: number,
  codeHashes: readonly string[],
  now: Date,
): Promise<void> {
  await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  if (codeHashes.length === 0) return;
  await trx
    .insertInto('recovery_codes')
    .values(
      codeHashes.map((hash) => ({
        user_id: userId,
        code_hash: hash,
        created_at: toDbTime(now),
        used_at: null,
      })),
    )
    .execute();
}
