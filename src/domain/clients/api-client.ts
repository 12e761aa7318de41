import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A registered API client: a resource server allowed to call POST /introspect (RFC 7662 2.1). */
export interface ApiClient {
  id: number;
  /** Public identifier, sent as the HTTP Basic user name (RFC 6749 2.3.1). */
  clientId: string;
  name: string;
  createdAt: Date;
}

/** The public view, as the admin API and the CLI show it (never the secret or its hash). */
export interface PublicApiClient {
  id: number;
  client_id: string;
  name: string;
  created_at: string;
}

export function toPublicApiClient(client: ApiClient): PublicApiClient {
  return {
    id: client.id,
    client_id: client.clientId,
    name: client.name,
    created_at: client.createdAt.toISOString(),
  };
}

const CLIENT_ID_PREFIX = 'gh_';

/** `gh_` + 128 random bits, base64url: unguessable, so ids reveal nothing of one another. */
export function generateClientId(): string {
  return CLIENT_ID_PREFIX + randomBytes(16).toString('base64url');
}

/** 256 random bits, base64url (RFC 6749 10.10, ASVS 2.9.2: at least 128 bits of entropy). */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Client secrets are stored only as their SHA-256. A secret of 256 random bits cannot be
 * guessed offline, so a slow password hash adds nothing (ASVS 2.4 applies to user-chosen
 * secrets; ASVS 2.9 / 3.5 ask for high-entropy, server-generated secrets): a stolen table
 * yields no usable secret, and verifying costs microseconds per introspection.
 */
export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares a presented secret with a stored hash in constant time (ASVS 2.9.x, CWE-208). */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashClientSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
