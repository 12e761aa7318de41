import { hash } from 'node:crypto';

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
const CONTENT_TAG = 'gatehouse.audit.v1\0';
const CONTENT_TAG_BYTES = Buffer.byteLength(CONTENT_TAG);

// One encoding written into one buffer and hashed with one call: every audit entry (one per
// login) is hashed on the event loop, and a Buffer per field part, a Hash object and its
// updates were ~5 KB of garbage per entry (issue 21).
function encodedSize(text: string | null): number {
  return text === null ? 1 : 5 + Buffer.byteLength(text, 'utf8');
}

function writeField(buffer: Buffer, offset: number, text: string | null): number {
  // Unambiguous: a null is one 0x00 byte; a value is 0x01, its UTF-8 length (4 bytes), its
  // bytes. No choice of field values can make two different entries encode alike.
  if (text === null) {
    buffer[offset] = 0;
    return offset + 1;
  }
  buffer[offset] = 1;
  const written = buffer.write(text, offset + 5, 'utf8');
  buffer.writeUInt32BE(written, offset + 1);
  return offset + 5 + written;
}

const text = (value: number | null) => (value === null ? null : String(value));

/** SHA-256 (hex) over the canonical encoding of an entry's content. */
export function auditContentDigest(content: StoredAuditContent): string {
  const actorId = text(content.actorId);
  const subjectId = text(content.subjectId);
  const size =
    CONTENT_TAG_BYTES +
    encodedSize(content.type) +
    encodedSize(content.createdAt) +
    encodedSize(actorId) +
    encodedSize(subjectId) +
    encodedSize(content.email) +
    encodedSize(content.ip) +
    encodedSize(content.userAgent) +
    encodedSize(content.details);
  const buffer = Buffer.allocUnsafe(size);
  let offset = buffer.write(CONTENT_TAG, 0, 'utf8');
  offset = writeField(buffer, offset, content.type);
  offset = writeField(buffer, offset, content.createdAt);
  offset = writeField(buffer, offset, actorId);
  offset = writeField(buffer, offset, subjectId);
  offset = writeField(buffer, offset, content.email);
  offset = writeField(buffer, offset, content.ip);
  offset = writeField(buffer, offset, content.userAgent);
  writeField(buffer, offset, content.details);
  return hash('sha256', buffer, 'hex');
}

// prev_hash ‖ seq ‖ id ‖ digest, rewritten by each (synchronous) call: no buffer per link.
const LINK = Buffer.alloc(80);

function writeUint64(buffer: Buffer, offset: number, value: number): void {
  // Big-endian in two 32-bit halves: seq and id are safe integers, so no BigInt is needed.
  buffer.writeUInt32BE(Math.floor(value / 2 ** 32), offset);
  buffer.writeUInt32BE(value >>> 0, offset + 4);
}

/**
 * `SHA-256(prev_hash ‖ seq ‖ id ‖ digest)` in hex: 32 + 8 + 8 + 32 bytes, every part of fixed
 * width. The Postgres insert computes the same in SQL (sql-audit-repository.ts).
 */
export function auditLinkHash(prevHash: string, seq: number, id: number, digest: string): string {
  if (
    prevHash.length !== 64 ||
    digest.length !== 64 ||
    LINK.write(prevHash, 0, 32, 'hex') !== 32 ||
    LINK.write(digest, 48, 32, 'hex') !== 32 ||
    !Number.isSafeInteger(seq) ||
    !Number.isSafeInteger(id) ||
    seq < 0 ||
    id < 0
  ) {
    return irregularLinkHash(prevHash, seq, id, digest);
  }
  writeUint64(LINK, 32, seq);
  writeUint64(LINK, 40, id);
  return hash('sha256', LINK, 'hex');
}

/**
 * The same rule over values no stored chain holds (a hash edited into something that is not
 * 64 hex digits): hashed as Buffer.from(…, 'hex') reads them, so verifying a tampered table
 * reports what it always did.
 */
function irregularLinkHash(prevHash: string, seq: number, id: number, digest: string): string {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(BigInt(seq));
  const idBytes = Buffer.alloc(8);
  idBytes.writeBigUInt64BE(BigInt(id));
  return hash(
    'sha256',
    Buffer.concat([Buffer.from(prevHash, 'hex'), seqBytes, idBytes, Buffer.from(digest, 'hex')]),
    'hex',
  );
}
