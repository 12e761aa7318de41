import { createHash } from 'node:crypto';

/**
 * The hash chain that makes the audit log tamper-evident (ASVS 4.0 V7.3.3 / ASVS 5.0 V16.4.2:
 * log integrity). Every entry stores `hash = SHA-256(prev_hash ‖ seq ‖ id ‖ content digest)`,
 * where `prev_hash` is the hash of the entry before it in the chain (the genesis hash for the
 * first) and `seq` counts entries 1, 2, 3, ... without gaps, so editing, deleting or reordering
 * a stored entry shows up when the chain is walked (`verifyAuditChain`).
 *
 * This is tamper *evidence*, not prevention: someone who can write the table and knows this
 * rule can rewrite an entry and every entry after it, and the head, into a new valid chain.
 * What catches that is a copy of the head hash kept outside the database: `gatehouse audit
 * verify` prints it for the operator to record (or ship to a log service); a later head must
 * extend a recorded one, so a rewritten past no longer matches it.
 */

/** The `prev_hash` of the first entry of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Every stored field of an entry except the chain's own (`seq`, `prev_hash`, `hash`), in the
 * form it is stored: `createdAt` as the ISO 8601 text written, `details` as the JSON text.
 */
export interface StoredAuditContent {
  type: string;
  createdAt: string;
  actorId: number | null;
  subjectId: number | null;
  email: string | null;
  ip: string | null;
  userAgent: string | null;
  details: string | null;
}

// Names the encoding, so a future change of it can never collide with this one.
const CONTENT_TAG = Buffer.from('gatehouse.audit.v1\0', 'utf8');

function encodeField(value: string | number | null): Buffer[] {
  // Unambiguous: a null is one 0x00 byte; a value is 0x01, its UTF-8 length (4 bytes), its
  // bytes. No choice of field values can make two different entries encode alike.
  if (value === null) return [Buffer.of(0)];
  const bytes = Buffer.from(String(value), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return [Buffer.of(1), length, bytes];
}

/** SHA-256 (hex) over the canonical encoding of an entry's content. */
export function auditContentDigest(content: StoredAuditContent): string {
  const fields = [
    content.type,
    content.createdAt,
    content.actorId,
    content.subjectId,
    content.email,
    content.ip,
    content.userAgent,
    content.details,
  ];
  const hash = createHash('sha256').update(CONTENT_TAG);
  for (const field of fields) for (const part of encodeField(field)) hash.update(part);
  return hash.digest('hex');
}

function uint64(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
}

/**
 * `SHA-256(prev_hash ‖ seq ‖ id ‖ digest)` in hex: 32 + 8 + 8 + 32 bytes, every part of fixed
 * width. The Postgres insert computes the same in SQL (sql-audit-repository.ts).
 */
export function auditLinkHash(prevHash: string, seq: number, id: number, digest: string): string {
  return createHash('sha256')
    .update(Buffer.from(prevHash, 'hex'))
    .update(uint64(seq))
    .update(uint64(id))
    .update(Buffer.from(digest, 'hex'))
    .digest('hex');
}
