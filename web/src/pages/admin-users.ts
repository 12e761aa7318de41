import {
  deleteUser,
  endUserSessions,
  listUsers,
  queryText,
  updateUser,
  type AuditQuery,
  type User,
  type UsersQuery,
} from '../api.ts';
import { confirmAction } from '../confirm.ts';
import { actionError, emailText, field, formatTime, h, listener, say } from '../dom.ts';
import { currentQuery, navigate } from '../router.ts';

const PAGE_SIZE = 20;

/** The page's URL holds the query of GET /users/. */
function go(params: UsersQuery): void {
  navigate(`#/admin/users?${queryText(params)}`, { force: true });
}

/**
 * The cursors of the pages seen so far for one search ('' is the first page), so "Previous
 * page" can go back: the API's cursors only go forward. Lost on reload; then only "First page".
 */
let trail = { prefix: '', cursors: [''], fromFirst: true };

/** The page's index in the trail, or undefined when it was reached some other way (a link). */
function placeInTrail(prefix: string, cursor: string): number | undefined {
  if (trail.prefix !== prefix) trail = { prefix, cursors: [''], fromFirst: true };
  const index = trail.cursors.indexOf(cursor);
  if (index >= 0) {
    trail.cursors.length = index + 1;
    return index;
  }
  trail =
    cursor === ''
      ? { prefix, cursors: [''], fromFirst: true }
      : { prefix, cursors: [cursor], fromFirst: false };
  return cursor === '' ? 0 : undefined;
}

/** One row; `onRemoved` keeps the page's count right after a delete. */
function userRow(initial: User, self: User, onRemoved: () => void): HTMLElement {
  let user = initial;
  // data-row: the shell's key for the row (dom.ts), should a redraw of the page need it.
  const tr = h('tr', { 'data-user-id': String(user.id), 'data-row': String(user.id) });

  /**
   * Redraws the row from `user` and puts focus back on the control named (WCAG 2.4.3); an
   * error goes next to that control (WCAG 3.3.1), not to the top of the page.
   */
  function redraw(focus: string, error?: string): void {
    const cells = draw();
    tr.replaceChildren(...cells);
    const target =
      tr.querySelector<HTMLElement>(`[data-control="${focus}"]`) ??
      tr.querySelector<HTMLElement>('select, button, a');
    if (target && error) actionError(target, error);
    target?.focus();
  }

  async function act(focus: string, work: () => Promise<User | null>, done: string): Promise<void> {
    let failed: string | undefined;
    try {
      const changed = await work();
      if (changed) user = changed;
      say(done, 'success');
    } catch (error) {
      // e.g. 409: the last active admin can't be demoted, disabled or deleted. The row is
      // redrawn from what the server holds, not from what was attempted.
      failed = (error as Error).message;
    }
    redraw(focus, failed);
  }

  function draw(): HTMLElement[] {
    const role = h(
      'select',
      { 'aria-label': `Role of ${user.email}`, 'data-control': 'role' },
      h('option', { value: 'user', selected: user.role === 'user' }, 'user'),
      h('option', { value: 'admin', selected: user.role === 'admin' }, 'admin'),
    ) as HTMLSelectElement;
    // Choosing a role only chooses it: nothing is saved until Save (an arrow key on a focused
    // select changes its value, and once promoted a user that way).
    const save = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        'data-control': 'save',
        'aria-label': `Save role of ${user.email}`,
        disabled: true,
      },
      'Save',
    ) as HTMLButtonElement;
    role.addEventListener('change', () => {
      save.disabled = role.value === user.role;
    });
    const saveRole = async () => {
      const value = role.value as User['role'];
      if (value === user.role) return;
      if (value === 'admin') {
        const ok = await confirmAction({
          title: `Make ${user.email} an admin?`,
          body: 'Admins can change, disable and delete every account, and read the audit log.',
          confirm: 'Make admin',
        });
        if (!ok) {
          role.value = user.role;
          save.disabled = true;
          role.focus();
          return;
        }
      }
      await act(
        'role',
        () => updateUser(user.id, { role: value }),
        `${user.email} is now ${value}.`,
      );
    };
    save.addEventListener('click', listener(saveRole));

    const toggle = h(
      'button',
      { type: 'button', class: 'secondary', 'data-control': 'toggle' },
      user.disabled ? 'Enable' : 'Disable',
    );
    const toggleDisabled = async () => {
      if (!user.disabled) {
        const ok = await confirmAction({
          title: `Disable ${user.email}?`,
          body: 'They are signed out everywhere at once and cannot sign in until enabled again.',
          confirm: 'Disable',
          danger: true,
        });
        if (!ok) return toggle.focus();
      }
      await act(
        'toggle',
        () => updateUser(user.id, { disabled: !user.disabled }),
        `${user.email} ${user.disabled ? 'enabled' : 'disabled'}.`,
      );
    };
    toggle.addEventListener('click', listener(toggleDisabled));

    const signOut = h(
      'button',
      { type: 'button', class: 'secondary', 'data-control': 'sign-out' },
      'Sign out everywhere',
    );
    const endSessions = async () => {
      const ok = await confirmAction({
        title: `Sign ${user.email} out everywhere?`,
        body: 'Every session of this account ends now; the account itself stays as it is.',
        confirm: 'Sign out everywhere',
        danger: true,
      });
      if (!ok) return signOut.focus();
      await act(
        'sign-out',
        async () => (await endUserSessions(user.id), null),
        `${user.email} is signed out everywhere.`,
      );
    };
    signOut.addEventListener('click', listener(endSessions));

    const remove = h(
      'button',
      { type: 'button', class: 'danger', 'data-control': 'delete' },
      'Delete',
    );
    const removeUser = async () => {
      const ok = await confirmAction({
        title: `Delete ${user.email}?`,
        body: 'The account and all of its sessions are removed. Its audit history stays.',
        confirm: 'Delete',
        danger: true,
      });
      if (!ok) return remove.focus();
      try {
        await deleteUser(user.id);
        say(`${user.email} deleted.`, 'success');
        // Focus moves to the next row (or the previous one, or the heading), not to nowhere.
        const next = (tr.nextElementSibling ?? tr.previousElementSibling) as HTMLElement | null;
        tr.remove();
        onRemoved();
        (
          next?.querySelector<HTMLElement>('select') ?? document.querySelector<HTMLElement>('h1')
        )?.focus();
      } catch (error) {
        redraw('delete', (error as Error).message);
      }
    };
    remove.addEventListener('click', listener(removeUser));

    const activity = h(
      'a',
      {
        href: `#/admin/audit?${queryText({ user_id: user.id } satisfies AuditQuery)}`,
        'aria-label': `View activity of ${user.email}`,
      },
      'View activity',
    );
    return [
      h('td', { 'data-label': 'ID', class: 'nowrap' }, String(user.id)),
      h(
        'td',
        { 'data-label': 'Email' },
        emailText(user.email),
        user.id === self.id ? h('span', { class: 'badge' }, 'you') : null,
      ),
      h('td', { 'data-label': 'Role' }, h('div', { class: 'role-edit' }, role, save)),
      h('td', { 'data-label': 'Status' }, user.disabled ? 'disabled' : 'active'),
      h('td', { 'data-label': 'Created' }, formatTime(user.created_at)),
      h(
        'td',
        { 'data-label': 'Actions' },
        h('div', { class: 'actions' }, toggle, signOut, remove, activity),
      ),
    ];
  }

  tr.replaceChildren(...draw());
  return tr;
}

export async function adminUsersPage(self: User): Promise<HTMLElement> {
  const params = currentQuery<UsersQuery>();
  const prefixValue = params.email_prefix ?? '';
  const page = await listUsers({
    email_prefix: params.email_prefix,
    cursor: params.cursor,
    limit: PAGE_SIZE,
  });
  const index = placeInTrail(prefixValue, params.cursor ?? '');
  let total = page.total;

  const prefix = field('Email starts with', {
    name: 'email_prefix',
    type: 'search',
    value: prefixValue,
  });
  const search = h(
    'form',
    {
      role: 'search',
      class: 'inline',
      onSubmit(event: Event) {
        event.preventDefault();
        go({ email_prefix: prefix.input.value.trim() });
      },
    },
    prefix.wrapper,
    h('button', { type: 'submit' }, 'Search'),
  );

  const count = h('p', { 'data-testid': 'users-count' });
  function showCount(): void {
    const shown = tbody.children.length;
    const noun = total === 1 ? 'user' : 'users';
    if (index === undefined || !trail.fromFirst || shown === 0)
      count.textContent = `${total} ${noun}`;
    else {
      const first = index * PAGE_SIZE + 1;
      count.textContent = `${first}–${first + shown - 1} of ${total} ${noun}`;
    }
  }
  const tbody = h('tbody');
  tbody.append(
    ...page.items.map((u) =>
      userRow(u, self, () => {
        total -= 1;
        showCount();
      }),
    ),
  );
  showCount();

  const previous = index !== undefined && index > 0 ? trail.cursors[index - 1] : undefined;
  const paging = h(
    'nav',
    { class: 'paging', 'aria-label': 'Pages of users' },
    params.cursor && !trail.fromFirst
      ? h(
          'button',
          { type: 'button', class: 'secondary', onClick: () => go({ email_prefix: prefixValue }) },
          'First page',
        )
      : null,
    previous !== undefined
      ? h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onClick: () => go({ email_prefix: prefixValue, cursor: previous }),
          },
          'Previous page',
        )
      : null,
    page.next_cursor
      ? h(
          'button',
          {
            type: 'button',
            onClick() {
              const next = page.next_cursor ?? '';
              trail.cursors.push(next);
              go({ email_prefix: prefixValue, cursor: next });
            },
          },
          'Next page',
        )
      : null,
  );
  return h(
    'section',
    { class: 'card' },
    h('h1', { tabindex: '-1' }, 'Users'),
    search,
    count,
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
            ...['ID', 'Email', 'Role', 'Status', 'Created', 'Actions'].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        tbody,
      ),
    ),
    page.items.length === 0 ? h('p', {}, 'No users match.') : null,
    paging,
  );
}
