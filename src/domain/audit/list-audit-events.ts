import type { AuditEntry, AuditFilters, AuditLog } from './audit-log.ts';

/** GET /audit: a page of entries, newest first; one extra row tells whether more follow. */
export async function listAuditEvents(
  deps: { audit: AuditLog },
  filters: AuditFilters,
  page: { limit: number; beforeId?: number },
): Promise<{ items: AuditEntry[]; nextBeforeId: number | undefined }> {
  const rows = await deps.audit.list(filters, { ...page, limit: page.limit + 1 });
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return { items, nextBeforeId: rows.length > page.limit && last ? last.id : undefined };
}
