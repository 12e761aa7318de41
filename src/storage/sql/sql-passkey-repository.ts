import { sql, type Kysely } from 'kysely';
import type { PasskeyRepository } from '../../domain/passkeys/passkey-repository.ts';
import type { ChallengePurpose, NewChallenge, Passkey } from '../../domain/passkeys/passkey.ts';
import type { Database, PasskeysTable } from './database.ts';
import { toDate, toDateOrNull, toDbTime, toDbTimeOrNull } from './db-time.ts';
import { isForeignKeyViolation, isUniqueViolation } from './driver-errors.ts';
import { refreshMfaEnabled } from './sql-mfa-repository.ts';
import { inWriteTransaction } from './write-transaction.ts';

// better-sqlite3 can't bind a JS boolean; 1/0 is TRUE/FALSE in both stores' boolean columns.
const bool = (value: boolean) => sql<boolean>`${sql.raw(value ? 'true' : 'false')}`;

function toTransports(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.filter((t) => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

function toPasskey(row: PasskeysTable): Passkey {
  return {
    id: row.id,
    userId: Number(row.user_id),
    credentialId: row.credential_id,
    publicKey: row.public_key,
    signCount: Number(row.sign_count),
    transports: toTransports(row.transports),
    deviceType: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    backedUp: Boolean(row.backed_up),
    name: row.name,
    createdAt: toDate(row.created_at),
    lastUsedAt: toDateOrNull(row.last_used_at),
  };
}

export class SqlPasskeyRepository implements PasskeyRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async addChallenge(challenge: NewChallenge): Promise<boolean> {
    try {
      await this.#db
        .insertInto('webauthn_challenges')
        .values({
          challenge: challenge.challenge,
          purpose: challenge.purpose,
          user_id: challenge.userId,
          created_at: toDbTime(challenge.createdAt),
          expires_at: toDbTime(challenge.expiresAt),
          used_at: null,
        })
        .execute();
      return true;
    } catch (error) {
      if (isForeignKeyViolation(error)) return false;
      throw error;
    }
  }

  async consumeChallenge(
    challenge: string,
    purpose: ChallengePurpose,
    now: Date,
  ): Promise<{ userId: number | null } | undefined> {
    const row = await this.#db
      .updateTable('webauthn_challenges')
      .set({ used_at: toDbTime(now) })
      .where('challenge', '=', challenge)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', toDbTime(now))
      .returning('user_id')
      .executeTakeFirst();
    return row && { userId: row.user_id === null ? null : Number(row.user_id) };
  }

  async add(passkey: Passkey): Promise<'added' | 'duplicate' | 'no_user'> {
    try {
      return await inWriteTransaction(this.#db, async (trx) => {
        await trx
          .insertInto('passkeys')
          .values({
            id: passkey.id,
            user_id: passkey.userId,
            credential_id: passkey.credentialId,
            public_key: passkey.publicKey,
            sign_count: passkey.signCount,
            transports: JSON.stringify(passkey.transports),
            device_type: passkey.deviceType,
            backed_up: bool(passkey.backedUp),
            name: passkey.name,
            created_at: toDbTime(passkey.createdAt),
            last_used_at: toDbTimeOrNull(passkey.lastUsedAt),
          })
          .execute();
        // API.md 9: `mfa_enabled` follows the factor tables, in the same change.
        await refreshMfaEnabled(trx, passkey.userId);
        return 'added' as const;
      });
    } catch (error) {
      if (isUniqueViolation(error)) return 'duplicate';
      if (isForeignKeyViolation(error)) return 'no_user';
      throw error;
    }
  }

  async listForUser(userId: number): Promise<Passkey[]> {
    const rows = await this.#db
      .selectFrom('passkeys')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toPasskey);
  }

  async findByCredentialId(credentialId: string): Promise<Passkey | undefined> {
    const row = await this.#db
      .selectFrom('passkeys')
      .selectAll()
      .where('credential_id', '=', credentialId)
      .executeTakeFirst();
    return row && toPasskey(row);
  }

  async rename(userId: number, id: string, name: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('passkeys')
      .set({ name })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  delete(userId: number, id: string): Promise<boolean> {
    return inWriteTransaction(this.#db, async (trx) => {
      const result = await trx
        .deleteFrom('passkeys')
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      await refreshMfaEnabled(trx, userId);
      return result.numDeletedRows > 0n;
    });
  }

  async recordUse(
    id: string,
    seenCount: number,
    use: { signCount: number; backedUp: boolean; at: Date },
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('passkeys')
      .set({
        sign_count: use.signCount,
        backed_up: bool(use.backedUp),
        last_used_at: toDbTime(use.at),
      })
      .where('id', '=', id)
      .where('sign_count', '=', seenCount)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async purgeChallenges(before: Date): Promise<number> {
    const result = await this.#db
      .deleteFrom('webauthn_challenges')
      .where('expires_at', '<', toDbTime(before))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
