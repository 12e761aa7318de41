import { recordAuditEvent, type AuditDeps } from '../audit/record-audit-event.ts';
import { GatehouseError } from '../errors.ts';
import type { ClientInfo } from '../client-info.ts';
import {
  generateClientId,
  generateClientSecret,
  hashClientSecret,
  secretMatches,
  type ApiClient,
} from './api-client.ts';
import type { ApiClientRepository } from './api-client-repository.ts';

export interface ApiClientsDeps extends AuditDeps {
  clients: ApiClientRepository;
}

/** Who manages clients: an admin over HTTP, or nobody known (`actorId: null`) from the CLI. */
export interface ClientAdminRequest {
  actorId: number | null;
  client?: ClientInfo;
}

const MAX_NAME_LENGTH = 100;
// C0/C1 controls and line separators: a name is shown in a terminal and a web page.
const CONTROL_CHARACTERS = /[\p{Cc}\u2028\u2029]/u;

/** The name as stored: trimmed, 1 to 100 characters, no control characters. */
export function validateClientName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_NAME_LENGTH) {
    throw new GatehouseError(
      'invalid_input',
      `Name must be 1 to ${MAX_NAME_LENGTH} characters (spaces around it are trimmed)`,
      { field: 'name' },
    );
  }
  if (CONTROL_CHARACTERS.test(trimmed)) {
    throw new GatehouseError('invalid_input', 'Name must not contain control characters', {
      field: 'name',
    });
  }
  return trimmed;
}

/** Registers a client; the secret is returned here once and never again (only its hash is kept). */
export async function createApiClient(
  deps: ApiClientsDeps,
  request: ClientAdminRequest & { name: string },
): Promise<{ client: ApiClient; secret: string }> {
  const name = validateClientName(request.name);
  const secret = generateClientSecret();
  const client = await deps.clients.create({
    clientId: generateClientId(),
    name,
    secretHash: hashClientSecret(secret),
    createdAt: deps.clock.now(),
  });
  await recordAuditEvent(
    deps,
    'client.created',
    { actorId: request.actorId, details: { client_id: client.clientId, name } },
    request.client,
  );
  return { client, secret };
}

export function listApiClients(deps: Pick<ApiClientsDeps, 'clients'>): Promise<ApiClient[]> {
  return deps.clients.list();
}

export async function deleteApiClient(
  deps: ApiClientsDeps,
  request: ClientAdminRequest & { id: number },
): Promise<void> {
  const deleted = await deps.clients.delete(request.id);
  if (!deleted) throw new GatehouseError('not_found', 'API client not found');
  await recordAuditEvent(
    deps,
    'client.deleted',
    { actorId: request.actorId, details: { client_id: deleted.clientId, name: deleted.name } },
    request.client,
  );
}

// Bounds on what is looked up: generated ids are 25 characters, secrets 43.
const MAX_CLIENT_ID_LENGTH = 100;
const MAX_SECRET_LENGTH = 200;
// Compared against when the client id is unknown, so that case costs the same hash and compare.
const UNKNOWN_CLIENT_HASH = hashClientSecret('gatehouse: no such client');

function invalidClient(): GatehouseError {
  return new GatehouseError('invalid_client', 'Client authentication failed');
}

/**
 * RFC 6749 2.3.1 / RFC 7662 2.1: the registered client these credentials belong to, or
 * `invalid_client`. Unknown id and wrong secret fail alike; the secret is compared in
 * constant time (its hash against the stored hash).
 */
export async function authenticateApiClient(
  deps: Pick<ApiClientsDeps, 'clients'>,
  clientId: string,
  secret: string,
): Promise<ApiClient> {
  if (clientId.length > MAX_CLIENT_ID_LENGTH || secret.length > MAX_SECRET_LENGTH) {
    throw invalidClient();
  }
  const found = clientId === '' ? undefined : await deps.clients.findByClientId(clientId);
  const matches = secretMatches(secret, found?.secretHash ?? UNKNOWN_CLIENT_HASH);
  if (!found || !matches) throw invalidClient();
  return found.client;
}
