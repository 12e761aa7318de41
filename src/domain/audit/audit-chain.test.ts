import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  auditContentDigest,
  auditLinkHash,
  GENESIS_HASH,
  type StoredAuditContent,
} from './audit-chain.ts';

const CONTENT: StoredAuditContent = {
  type: 'login.succeeded',
  createdAt: '2031-03-01T10:00:00.000Z',
  actorId: 7,
  subjectId: 7,
  email: 'a@example.com',
  ip: '203.0.113.7',
  userAgent: 'agent/1.0',
  details: '{"session_id":"s1"}',
};

const sha256 = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
const hexOf = (text: string) => Buffer.from(text, 'utf8').toString('hex');
/** The encoding spelled out independently: 01 ‖ 4-byte length ‖ UTF-8, or 00 for null. */
const field = (text: string | null) =>
  text === null ? '00' : `01${Buffer.byteLength(text).toString(16).padStart(8, '0')}${hexOf(text)}`;

describe('the audit chain hash rule', () => {
  it('digests the tagged, length-prefixed fields in their fixed order', () => {
    const expected = sha256(
      hexOf('gatehouse.audit.v1\0') +
        [
          'login.succeeded',
          '2031-03-01T10:00:00.000Z',
          '7',
          '7',
          'a@example.com',
          '203.0.113.7',
          'agent/1.0',
          '{"session_id":"s1"}',
        ]
          .map(field)
          .join(''),
    );
    assert.equal(auditContentDigest(CONTENT), expected);
  });

  it('links SHA-256 over the previous hash, seq and id as 8-byte big-endian, and the digest', () => {
    const digest = auditContentDigest(CONTENT);
    const expected = sha256(
      `${GENESIS_HASH}${'1'.padStart(16, '0')}${'2a'.padStart(16, '0')}${digest}`,
    );
    assert.equal(auditLinkHash(GENESIS_HASH, 1, 42, digest), expected);
  });

  it('never encodes two different entries alike: shifted values, null against empty', () => {
    const digests = [
      CONTENT,
      { ...CONTENT, email: null, ip: 'a@example.com' },
      { ...CONTENT, email: 'a@example.com203.0.113.7', ip: '' },
      { ...CONTENT, email: '', ip: null },
      { ...CONTENT, email: null, ip: null },
      { ...CONTENT, actorId: 77, subjectId: null },
      { ...CONTENT, actorId: null, subjectId: 77 },
    ].map(auditContentDigest);
    assert.equal(new Set(digests).size, digests.length);
  });

  it('measures multi-byte and long values by their UTF-8 bytes', () => {
    const content = {
      ...CONTENT,
      email: 'zoë@exämple.com',
      userAgent: `agent 🙂 ${'x'.repeat(5000)}`,
      details: '{"note":"\ud800"}',
    };
    const expected = sha256(
      hexOf('gatehouse.audit.v1\0') +
        [
          content.type,
          content.createdAt,
          '7',
          '7',
          content.email,
          content.ip,
          content.userAgent,
          content.details,
        ]
          .map(field)
          .join(''),
    );
    assert.equal(auditContentDigest(content), expected);
  });

  it('links seq and id past 32 bits as 8-byte big-endian', () => {
    const digest = auditContentDigest(CONTENT);
    const seq = 2 ** 40 + 5;
    const id = 2 ** 33 + 1;
    const expected = sha256(
      `${GENESIS_HASH}${seq.toString(16).padStart(16, '0')}${id.toString(16).padStart(16, '0')}${digest}`,
    );
    assert.equal(auditLinkHash(GENESIS_HASH, seq, id, digest), expected);
  });

  it('hashes a stored hash that is not 64 hex digits as its hex-decodable prefix', () => {
    const digest = auditContentDigest(CONTENT);
    const tampered = `ab${'z'.repeat(62)}`;
    const expected = sha256(`ab${'1'.padStart(16, '0')}${'2'.padStart(16, '0')}${digest}`);
    assert.equal(auditLinkHash(tampered, 1, 2, digest), expected);
    // A regular call after it is unaffected by what the irregular one read.
    assert.equal(
      auditLinkHash(GENESIS_HASH, 1, 42, digest),
      sha256(`${GENESIS_HASH}${'1'.padStart(16, '0')}${'2a'.padStart(16, '0')}${digest}`),
    );
  });
});
