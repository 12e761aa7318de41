import { auditContentDigest, auditLinkHash } from './audit-chain.ts';
import type { AuditLog } from './audit-log.ts';

export type AuditChainProblem =
  'content_changed' | 'link_broken' | 'entry_missing' | 'not_in_chain';

export interface AuditChainBreak {
  problem: AuditChainProblem;
  /** The first entry found broken, or for missing entries the one after the gap. */
  entryId: number | undefined;
  message: string;
}

export type AuditChainReport =
  | { ok: true; verified: number; legacy: number; headSeq: number; headHash: string }
  | { ok: false; verified: number; broken: AuditChainBreak };

// Entries read per query: memory stays flat however long the log is.
const PAGE_SIZE = 1000;

/**
 * Walks the audit log's hash chain (audit-chain.ts) from its anchor to the head the store
 * recorded when the walk began, and reports the first entry that breaks it. Entries appended
 * during the walk lie beyond that head and are left for the next run.
 */
export async function verifyAuditChain(deps: { audit: AuditLog }): Promise<AuditChainReport> {
  const state = await deps.audit.chainState();
  if (!state) {
    const message = 'the chain head (table audit_chain) is missing';
    return {
      ok: false,
      verified: 0,
      broken: { problem: 'link_broken', entryId: undefined, message },
    };
  }
  let expectedSeq = state.anchorSeq + 1;
  let prevHash = state.anchorHash;
  let prevId: number | undefined;
  const fail = (problem: AuditChainProblem, entryId: number | undefined, message: string) => ({
    ok: false as const,
    verified: expectedSeq - state.anchorSeq - 1,
    broken: { problem, entryId, message },
  });

  walk: for (;;) {
    const page = await deps.audit.chainLinks(expectedSeq - 1, PAGE_SIZE);
    for (const link of page) {
      if (link.seq > state.headSeq) break walk;
      if (link.seq !== expectedSeq) {
        const range =
          link.seq - 1 === expectedSeq ? `${expectedSeq}` : `${expectedSeq}-${link.seq - 1}`;
        return fail(
          'entry_missing',
          link.id,
          `entry missing: seq ${range} between entry ${prevId ?? '(chain start)'} and entry ${link.id}`,
        );
      }
      if (link.prevHash !== prevHash) {
        return fail(
          'link_broken',
          link.id,
          `entry ${link.id}: link broken (its prev_hash is not the hash of entry ${prevId ?? '(chain start)'})`,
        );
      }
      const digest = auditContentDigest(link.content);
      if (auditLinkHash(link.prevHash, link.seq, link.id, digest) !== link.hash) {
        return fail(
          'content_changed',
          link.id,
          `entry ${link.id}: content changed (hash mismatch)`,
        );
      }
      prevHash = link.hash;
      prevId = link.id;
      expectedSeq += 1;
    }
    if (page.length < PAGE_SIZE) break;
  }

  // Deleting the newest entries leaves no gap behind them; the head the store keeps shows it.
  if (expectedSeq - 1 < state.headSeq) {
    return fail(
      'entry_missing',
      undefined,
      `entry missing: seq ${expectedSeq}-${state.headSeq}, the newest, after entry ${prevId ?? '(chain start)'}`,
    );
  }
  if (prevHash !== state.headHash) {
    return fail(
      'link_broken',
      prevId,
      `entry ${prevId}: link broken (it is not the recorded head)`,
    );
  }
  const unchained = await deps.audit.unchainedEntries(state.legacyMaxId);
  if (unchained.strayId !== undefined) {
    return fail(
      'not_in_chain',
      unchained.strayId,
      `entry ${unchained.strayId}: not in the chain (written past the chain, not by Gatehouse)`,
    );
  }
  return {
    ok: true,
    verified: expectedSeq - state.anchorSeq - 1,
    legacy: unchained.legacy,
    headSeq: state.headSeq,
    headHash: state.headHash,
  };
}
