import { sql, type Kysely } from 'kysely';
import { normalizeEmail } from '../../domain/email-address.ts';
import type { User, UserWithHash } from '../../domain/accounts/user.ts';
import type {
  AccessChangeResult,
  AccessChanges,
  DeleteUserResult,
  InitialVerification,
  NewUser,
  UserRepository,
} from '../../domain/accounts/user-repository.ts';
import { GatehouseError } from '../../domain/errors.ts';
import type { Database } from './database.ts';
import { toDbTime } from './db-time.ts';
import { isUniqueViolation } from './driver-errors.ts';
import { kyselyRunner, type QueryRunner } from './run-query.ts';
import { changeAccess, deleteUser } from './user-access-changes.ts';
import { prepareUserQueries } from './user-queries.ts';
import { toUser, USER_COLUMNS } from './user-rows.ts';
import { inWriteTransaction, queueMail } from './write-transaction.ts';

// users.id is a 32-bit integer on Postgres (serial), where a larger parameter is an error
// rather than no match; SQLite would simply find nothing. Such ids are unknown on both.
const MAX_USER_ID = 2_147_483_647;
const isStorableId = (id: number) => Number.isSafeInteger(id) && Math.abs(id) <= MAX_USER_ID;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `email_prefix` of GET /users/, case-insensitive; `list` and `count` agree on it. */
function emailStartsWith(prefix: string) {
  const pattern = `${escapeLike(normalizeEmail(prefix))}%`;
  // ESCAPE makes `%` and `_` in the prefix literal, in SQLite and Postgres alike.
  return sql<boolean>`email_normalized like ${pattern} escape '\\'`;
}

export class SqlUserRepository implements UserRepository {
  readonly #db: Kysely<Database>;
  readonly #run: QueryRunner;
  readonly #prepared: ReturnType<typeof prepareUserQueries>;

  constructor(db: Kysely<Database>, run: QueryRunner = kyselyRunner(db)) {
    this.#db = db;
    this.#run = run;
    this.#prepared = prepareUserQueries(db);
  }

  async create(user: NewUser, verification?: InitialVerification): Promise<User> {
    try {
      if (!verification) return await this.#insert(this.#run, user);
      return await inWriteTransaction(this.#db, async (trx) => {
        // Inside the transaction every statement goes through its connection.
        const run: QueryRunner = (query) => trx.executeQuery(query);
        const created = await this.#insert(run, user);
        await run(
          this.#prepared.insertVerificationToken({
            tokenHash: verification.tokenHash,
            userId: created.id,
            email: created.email,
            createdAt: toDbTime(user.createdAt),
            expiresAt: toDbTime(verification.expiresAt),
          }),
        );
        await queueMail(trx, verification.mail, user.createdAt);
        return created;
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new GatehouseError('email_taken', 'Email already registered', { cause: error });
      }
      throw error;
    }
  }

  async #insert(run: QueryRunner, user: NewUser): Promise<User> {
    const query = this.#prepared.insert({
      email: user.email,
      emailNormalized: normalizeEmail(user.email),
      passwordHash: user.passwordHash,
      role: user.role,
      createdAt: toDbTime(user.createdAt),
    });
    const row = (await run(query)).rows[0];
    if (!row) throw new Error('INSERT ... RETURNING returned no row');
    return toUser(row);
  }

  async findByEmail(normalizedEmail: string): Promise<User | undefined> {
    const { rows } = await this.#run(this.#prepared.findByEmail({ email: normalizedEmail }));
    return rows[0] && toUser(rows[0]);
  }

  async findByEmailForLogin(normalizedEmail: string): Promise<UserWithHash | undefined> {
    const query = this.#prepared.findCredentialsByEmail({ email: normalizedEmail });
    const row = (await this.#run(query)).rows[0];
    return row && { ...toUser(row), passwordHash: row.password_hash };
  }

  async findById(id: number): Promise<User | undefined> {
    if (!isStorableId(id)) return undefined;
    const row = await this.#db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async findCredentialsById(id: number): Promise<UserWithHash | undefined> {
    if (!isStorableId(id)) return undefined;
    const row = (await this.#run(this.#prepared.findCredentialsById({ id }))).rows[0];
    return row && { ...toUser(row), passwordHash: row.password_hash };
  }

  async updatePasswordHash(
    id: number,
    passwordHash: string,
    verifiedHash: string,
  ): Promise<boolean> {
    if (!isStorableId(id)) return false;
    const result = await this.#db
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('id', '=', id)
      // Compare-and-set: a hash stored since the caller verified `verifiedHash` stays.
      .where('password_hash', '=', verifiedHash)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async list(options: { limit: number; afterId?: number; emailPrefix?: string }): Promise<User[]> {
    if (options.afterId !== undefined && options.afterId >= MAX_USER_ID) return [];
    let query = this.#db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .orderBy('id')
      .limit(options.limit);
    if (options.afterId !== undefined) query = query.where('id', '>', options.afterId);
    if (options.emailPrefix) query = query.where(emailStartsWith(options.emailPrefix));
    return (await query.execute()).map(toUser);
  }

  async count(options: { emailPrefix?: string }): Promise<number> {
    let query = this.#db.selectFrom('users').select((eb) => eb.fn.countAll().as('n'));
    if (options.emailPrefix) query = query.where(emailStartsWith(options.emailPrefix));
    return Number((await query.executeTakeFirstOrThrow()).n);
  }

  async countAdmins(): Promise<number> {
    const row = await this.#db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  changeAccess(id: number, changes: AccessChanges, now: Date): Promise<AccessChangeResult> {
    if (!isStorableId(id)) return Promise.resolve({ outcome: 'not_found' });
    return changeAccess(this.#db, id, changes, now);
  }

  delete(id: number): Promise<DeleteUserResult> {
    if (!isStorableId(id)) return Promise.resolve({ outcome: 'not_found' });
    return deleteUser(this.#db, id);
  }
}
