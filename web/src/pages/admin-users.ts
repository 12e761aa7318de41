import { deleteUser, listUsers, updateUser, type User } from '../api.ts';
import { field, formatTime, h, say } from '../dom.ts';
import { currentParams, navigate } from '../router.ts';

function refresh(params: Record<string, string | undefined>): void {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  navigate(`#/admin/users?${search.toString()}`, { force: true });
}

async function act(work: () => Promise<unknown>, done: string): Promise<void> {
  try {
    await work();
    say(done, 'success');
    refresh(currentParams());
  } catch (error) {
    // e.g. 409: the last active admin can't be demoted, disabled or deleted. Redraw, so the
    // controls show what the server holds rather than what was attempted.
    say((error as Error).message, 'error');
    refresh(currentParams());
  }
}

function userRow(user: User, self: User): HTMLElement {
  const role = h(
    'select',
    {
      'aria-label': `Role of ${user.email}`,
      onChange: (event: Event) => {
        const value = (event.target as HTMLSelectElement).value;
        void act(() => updateUser(user.id, { role: value }), `${user.email} is now ${value}.`);
      },
    },
    h('option', { value: 'user', selected: user.role === 'user' }, 'user'),
    h('option', { value: 'admin', selected: user.role === 'admin' }, 'admin'),
  );
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onClick: () =>
        act(
          () => updateUser(user.id, { disabled: !user.disabled }),
          `${user.email} ${user.disabled ? 'enabled' : 'disabled'}.`,
        ),
    },
    user.disabled ? 'Enable' : 'Disable',
  );
  const actions = h('td', { class: 'actions' }, toggle);
  const remove = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      onClick() {
        // A second, explicit click confirms: no native dialog, keyboard and screen-reader friendly.
        const confirm = h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onClick: () => act(() => deleteUser(user.id), `${user.email} deleted.`),
          },
          `Confirm delete ${user.email}`,
        );
        const cancel = h(
          'button',
          { type: 'button', class: 'secondary', onClick: () => refresh(currentParams()) },
          'Cancel',
        );
        remove.replaceWith(confirm, cancel);
        confirm.focus();
      },
    },
    'Delete',
  );
  actions.append(remove);
  return h(
    'tr',
    {},
    h(
      'td',
      { 'data-label': 'Email' },
      user.email,
      user.id === self.id ? h('span', { class: 'badge' }, 'you') : null,
    ),
    h('td', { 'data-label': 'Role' }, role),
    h('td', { 'data-label': 'Status' }, user.disabled ? 'disabled' : 'active'),
    h('td', { 'data-label': 'Created' }, formatTime(user.created_at)),
    actions,
  );
}

export async function adminUsersPage(self: User): Promise<HTMLElement> {
  const params = currentParams();
  const page = await listUsers({
    email_prefix: params.email_prefix,
    cursor: params.cursor,
    limit: '20',
  });
  const prefix = field('Email starts with', {
    name: 'email_prefix',
    type: 'search',
    value: params.email_prefix ?? '',
  });
  const search = h(
    'form',
    {
      role: 'search',
      class: 'inline',
      onSubmit(event: Event) {
        event.preventDefault();
        refresh({ email_prefix: prefix.input.value.trim() });
      },
    },
    prefix.wrapper,
    h('button', { type: 'submit' }, 'Search'),
  );
  const paging = h(
    'nav',
    { class: 'paging', 'aria-label': 'Pages of users' },
    params.cursor
      ? h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onClick: () => refresh({ email_prefix: params.email_prefix }),
          },
          'First page',
        )
      : null,
    page.next_cursor
      ? h(
          'button',
          {
            type: 'button',
            onClick: () =>
              refresh({ email_prefix: params.email_prefix, cursor: page.next_cursor ?? undefined }),
          },
          'Next page',
        )
      : null,
  );
  return h(
    'section',
    { class: 'card' },
    h('h1', {}, 'Users'),
    search,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { 'data-testid': 'users' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Email', 'Role', 'Status', 'Created', 'Actions'].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        h('tbody', {}, ...page.items.map((u) => userRow(u, self))),
      ),
    ),
    page.items.length === 0 ? h('p', {}, 'No users match.') : null,
    paging,
  );
}
