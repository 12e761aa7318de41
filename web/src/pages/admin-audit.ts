import {
  ApiError,
  auditTypes,
  listAudit,
  queryText,
  type AuditEntry,
  type AuditQuery,
  type Page,
} from '../api.ts';
import { emailText, field, formatTime, h } from '../dom.ts';
import { currentQuery, navigate } from '../router.ts';

const FILTERS = [
  'user_id',
  'user_email',
  'type',
  'since',
  'until',
] as const satisfies readonly (keyof AuditQuery)[];
type Filter = (typeof FILTERS)[number];
const PAGE_SIZE = 25;

/** The page's URL holds the query of GET /audit. */
function go(params: AuditQuery): void {
  navigate(`#/admin/audit?${queryText(params)}`, { force: true });
}

/** datetime-local (the browser's time zone) → ISO 8601 UTC for the API. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** ISO 8601 from the URL → the datetime-local value showing the same instant, or ''. */
function toLocal(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const seconds = date.getSeconds() ? `:${pad(date.getSeconds())}` : '';
  return `${day}T${pad(date.getHours())}:${pad(date.getMinutes())}${seconds}`;
}

/** "alice@example.com (#3)", the id alone once the account is gone, or "—". */
function who(email: string | null | undefined, id: number | null): (Node | string)[] {
  if (id === null) return [email ? emailText(email) : '—'];
  return email ? [emailText(email), ` (#${id})`] : [`#${id}`];
}

function describeDetails(details: Record<string, unknown> | null | undefined): string {
  if (!details) return '—';
  return Object.entries(details)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}

function row(entry: AuditEntry): HTMLElement {
  return h(
    'tr',
    { 'data-row': String(entry.id) },
    h('td', { 'data-label': 'Time' }, formatTime(entry.created_at)),
    h('td', { 'data-label': 'Event', class: 'nowrap' }, entry.type),
    h('td', { 'data-label': 'Actor' }, ...who(entry.actor_email, entry.actor_id)),
    // The subject's email now, else the one recorded (a deleted account, an unknown email tried).
    h(
      'td',
      { 'data-label': 'Subject' },
      ...who(entry.subject_email ?? entry.email, entry.subject_id),
    ),
    h('td', { 'data-label': 'Details' }, describeDetails(entry.details)),
    h('td', { 'data-label': 'IP', class: 'nowrap' }, entry.ip ?? '—'),
  );
}

/** A user typed as an id or an email: the query parameter it becomes. */
function userFilter(value: string): Pick<AuditQuery, 'user_id' | 'user_email'> {
  const trimmed = value.trim();
  if (!trimmed) return {};
  return /^\d+$/.test(trimmed) ? { user_id: trimmed } : { user_email: trimmed };
}

export async function adminAuditPage(): Promise<HTMLElement> {
  const params = currentQuery<AuditQuery>();
  const filterValues: AuditQuery = Object.fromEntries(FILTERS.map((f) => [f, params[f]]));
  const [types, result] = await Promise.all([
    auditTypes(),
    listAudit({ ...filterValues, cursor: params.cursor, limit: PAGE_SIZE }).then(
      (page): Page<AuditEntry> | ApiError => page,
      (error: unknown) => {
        if (error instanceof ApiError && error.status !== 401) return error;
        throw error;
      },
    ),
  ]);

  const user = field(
    'User id or email',
    { name: 'user', value: params.user_id ?? params.user_email ?? '', autocomplete: 'off' },
    'Events the user did or that concern them',
  );
  // The types come from the server (GET /audit/types), never a copy kept here. A type in the
  // URL that the server doesn't know stays selected, so its error shows at this field.
  const typeId = `f-type-${Date.now()}`;
  const typeError = h('small', { id: `${typeId}-error`, class: 'error', hidden: true });
  const typeOptions = [...types.items];
  if (params.type && !typeOptions.includes(params.type)) typeOptions.unshift(params.type);
  const type = h(
    'select',
    { id: typeId, name: 'type', 'aria-describedby': `${typeId}-error` },
    h('option', { value: '' }, 'Any type'),
    ...typeOptions.map((t) => h('option', { value: t, selected: t === params.type }, t)),
  ) as HTMLSelectElement;
  const typeField = {
    wrapper: h(
      'div',
      { class: 'field' },
      h('label', { for: typeId }, 'Event type'),
      type,
      typeError,
    ),
    setError(message: string | null) {
      typeError.textContent = message ?? '';
      typeError.hidden = message === null;
      if (message === null) type.removeAttribute('aria-invalid');
      else type.setAttribute('aria-invalid', 'true');
    },
  };
  const since = field('Since', {
    name: 'since',
    type: 'datetime-local',
    step: '1',
    value: toLocal(params.since),
  });
  const until = field('Until', {
    name: 'until',
    type: 'datetime-local',
    step: '1',
    value: toLocal(params.until),
  });

  const filters = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Filter the audit log',
      onSubmit(event: Event) {
        event.preventDefault();
        go({
          ...userFilter(user.input.value),
          type: type.value,
          since: toIso(since.input.value),
          until: toIso(until.input.value),
        });
      },
    },
    user.wrapper,
    typeField.wrapper,
    since.wrapper,
    until.wrapper,
    h('button', { type: 'submit' }, 'Filter'),
    h('button', { type: 'button', class: 'secondary', onClick: () => go({}) }, 'Clear filters'),
  );

  // A refused filter shows its message at its field and no rows at all: rows under a filtered
  // URL must be rows that match it.
  let problem: HTMLElement | null = null;
  const entries = result instanceof ApiError ? [] : result.items;
  if (result instanceof ApiError) {
    // Every filter has a place for its error (a new filter without one fails to compile).
    const at: Partial<Record<string, (message: string) => void>> = {
      user_id: (m) => user.setError(m),
      user_email: (m) => user.setError(m),
      type: (m) => typeField.setError(m),
      since: (m) => since.setError(`“${params.since ?? ''}”: ${m}`),
      until: (m) => until.setError(`“${params.until ?? ''}”: ${m}`),
    } satisfies Record<Filter, (message: string) => void>;
    let placed = false;
    for (const [name, message] of Object.entries(result.fields)) {
      const show = at[name];
      if (show) {
        show(message);
        placed = true;
      }
    }
    problem = h(
      'p',
      { class: 'error', role: 'alert', 'data-testid': 'audit-error' },
      placed ? 'Fix the filter marked above; no events are shown.' : result.message,
    );
  }

  const page = result instanceof ApiError ? undefined : result;
  return h(
    'section',
    { class: 'card' },
    h('h1', { tabindex: '-1' }, 'Audit log'),
    filters,
    problem,
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
            ...['Time', 'Event', 'Actor', 'Subject', 'Details', 'IP'].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        h('tbody', {}, ...entries.map(row)),
      ),
    ),
    page && entries.length === 0 ? h('p', {}, 'No events match.') : null,
    h(
      'nav',
      { class: 'paging', 'aria-label': 'Pages of the audit log' },
      params.cursor
        ? h(
            'button',
            { type: 'button', class: 'secondary', onClick: () => go(filterValues) },
            'Newest',
          )
        : null,
      page?.next_cursor
        ? h(
            'button',
            {
              type: 'button',
              onClick: () => go({ ...filterValues, cursor: page.next_cursor ?? undefined }),
            },
            'Older',
          )
        : null,
    ),
  );
}
