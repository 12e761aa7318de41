import type { ApiClient } from './api-client.ts';

export interface NewApiClient {
  clientId: string;
  name: string;
  /** SHA-256 of the secret, hex (api-client.ts); the secret itself is never stored. */
  secretHash: string;
  createdAt: Date;
}

/** Storage port for API clients (test/contract/api-client-repository.contract.ts checks both stores). */
export interface ApiClientRepository {
  /** Stores a new client and returns it with its id. `clientId` is unique (random, 128 bits). */
  create(client: NewApiClient): Promise<ApiClient>;

  /** Every client, oldest first (by id). */
  list(): Promise<ApiClient[]>;

  /** The client with this public id and its secret hash, for authentication; undefined if none. */
  findByClientId(clientId: string): Promise<{ client: ApiClient; secretHash: string } | undefined>;

  /**
   * Deletes the client; it can no longer authenticate from the next request on, on every
   * instance (nothing is cached). Returns what was deleted; undefined when there was none
   * (unknown or already deleted): of concurrent callers exactly one gets the client.
   */
  delete(id: number): Promise<ApiClient | undefined>;
}
