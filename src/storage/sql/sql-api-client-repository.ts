import type { Kysely, Selectable } from 'kysely';
import type { ApiClient } from '../../domain/clients/api-client.ts';
import type {
  ApiClientRepository,
  NewApiClient,
} from '../../domain/clients/api-client-repository.ts';
import type { ApiClientsTable, Database } from './database.ts';
import { toDate, toDbTime } from './db-time.ts';

const PUBLIC_COLUMNS = ['id', 'client_id', 'name', 'created_at'] as const;

function toApiClient(
  row: Pick<Selectable<ApiClientsTable>, (typeof PUBLIC_COLUMNS)[number]>,
): ApiClient {
  return {
    id: Number(row.id),
    clientId: row.client_id,
    name: row.name,
    createdAt: toDate(row.created_at),
  };
}

export class SqlApiClientRepository implements ApiClientRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async create(client: NewApiClient): Promise<ApiClient> {
    const row = await this.#db
      .insertInto('api_clients')
      .values({
        client_id: client.clientId,
        name: client.name,
        secret_hash: client.secretHash,
        created_at: toDbTime(client.createdAt),
      })
      .returning(PUBLIC_COLUMNS)
      .executeTakeFirstOrThrow();
    return toApiClient(row);
  }

  async list(): Promise<ApiClient[]> {
    const rows = await this.#db
      .selectFrom('api_clients')
      .select(PUBLIC_COLUMNS)
      .orderBy('id')
      .execute();
    return rows.map(toApiClient);
  }

  async findByClientId(
    clientId: string,
  ): Promise<{ client: ApiClient; secretHash: string } | undefined> {
    const row = await this.#db
      .selectFrom('api_clients')
      .select([...PUBLIC_COLUMNS, 'secret_hash'])
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row && { client: toApiClient(row), secretHash: row.secret_hash };
  }

  async delete(id: number): Promise<ApiClient | undefined> {
    // One statement: of concurrent deletes, exactly one gets the row back.
    const row = await this.#db
      .deleteFrom('api_clients')
      .where('id', '=', id)
      .returning(PUBLIC_COLUMNS)
      .executeTakeFirst();
    return row && toApiClient(row);
  }
}
