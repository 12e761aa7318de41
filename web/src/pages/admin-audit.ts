import { listAudit, type AuditEntry } from '../api.ts';
import { field, formatTime, h } from '../dom.ts';
import { currentParams, navigate } from '../router.ts';

const FILTERS = ['user_id', 'type', 'since', 'until'] as const;

function go(params: Record<string, string | undefined>): void {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  navigate(`#/admin/audit?${search.toString()}`, { force: true });
}

function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function row(entry: AuditEntry): HTMLElement {
  return h(
    'tr',
    {},
    h('td', { 'data-label': 'Time' }, formatTime(entry.created_at)),
    h('td', { 'data-label': 'Event' }, entry.type),
    h('td', { 'data-label': 'Actor' }, entry.actor_id === null ? '—' : String(entry.actor_id)),
    h(
      'td',
      { 'data-label': 'Subject' },
      entry.subject_id === null ? '—' : String(entry.subject_id),
    ),
    h('td', { 'data-label': 'Email' }, entry.email ?? '—'),
    h('td', { 'data-label': 'IP' }, entry.ip ?? '—'),
  );
}

export async function adminAuditPage(): Promise<HTMLElement> {
  const params = currentParams();
  const page = await listAudit({
    ...Object.fromEntries(FILTERS.map((f) => [f, params[f]])),
    cursor: params.cursor,
    limit: '25',
  });
  const userId = field('User id', {
    name: 'user_id',
    inputmode: 'numeric',
    value: params.user_id ?? '',
  });
  const type = field('Event type', { name: 'type', value: params.type ?? '' }, 'e.g. login_failed');
  const since = field('Since', { name: 'since', type: 'datetime-local' });
  const until = field('Until', { name: 'until', type: 'datetime-local' });
  const filters = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Filter the audit log',
      onSubmit(event: Event) {
        event.preventDefault();
        go({
          user_id: userId.input.value.trim(),
          type: type.input.value.trim(),
          since: toIso(since.input.value),
          until: toIso(until.input.value),
        });
      },
    },
    userId.wrapper,
    type.wrapper,
    since.wrapper,
    until.wrapper,
    h('button', { type: 'submit' }, 'Filter'),
  );
  const base = Object.fromEntries(FILTERS.map((f) => [f, params[f]]));
  return h(
    'section',
    { class: 'card' },
    h('h1', {}, 'Audit log'),
    filters,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { 'data-testid': 'audit' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Time', 'Event', 'Actor', 'Subject', 'Email', 'IP'].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        h('tbody', {}, ...page.items.map(row)),
      ),
    ),
    page.items.length === 0 ? h('p', {}, 'No events match.') : null,
    h(
      'nav',
      { class: 'paging', 'aria-label': 'Pages of the audit log' },
      params.cursor
        ? h('button', { type: 'button', class: 'secondary', onClick: () => go(base) }, 'Newest')
        : null,
      page.next_cursor
        ? h(
            'button',
            {
              type: 'button',
              onClick: () => go({ ...base, cursor: page.next_cursor ?? undefined }),
            },
            'Older',
          )
        : null,
    ),
  );
}
