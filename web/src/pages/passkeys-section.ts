import { ApiError, deletePasskey, listPasskeys, type PasskeyItem } from '../api.ts';
import { confirmAction } from '../confirm.ts';
import {
  actionError,
  field,
  fieldError,
  focusAfterRedraw,
  formatTime,
  h,
  say,
  tableRegion,
} from '../dom.ts';
import { submitForm } from '../submit-form.ts';
import { currentPasswordField } from '../password-field.ts';
import { createPasskey, passkeysSupported } from '../passkeys.ts';
import { navigate } from '../router.ts';
import { afterFactorChange } from './other-sessions.ts';

function passkeyRow(item: PasskeyItem): HTMLElement {
  const remove = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      'aria-label': `Delete the passkey ${item.name}`,
      async onClick() {
        // The same modal dialog as the admin pages (focus on Cancel, Escape cancels), not
        // window.confirm, which can't be styled and which browsers may suppress.
        const ok = await confirmAction({
          title: `Delete the passkey “${item.name}”?`,
          body: 'It no longer signs you in here; remove it from your device or password manager too.',
          confirm: 'Delete passkey',
          danger: true,
        });
        if (!ok) return remove.focus();
        actionError(remove, null);
        try {
          await deletePasskey(item.id);
          afterFactorChange('Passkey deleted.');
          focusAfterRedraw(remove);
          navigate('#/account', { force: true });
        } catch (error) {
          actionError(remove, (error as Error).message);
        }
      },
    },
    'Delete',
  );
  return h(
    'tr',
    { 'data-row': item.id },
    h('td', { 'data-label': 'Name' }, item.name),
    h('td', { 'data-label': 'Synced' }, item.device_type === 'multiDevice' ? 'Yes' : 'No'),
    h('td', { 'data-label': 'Added' }, formatTime(item.created_at)),
    h('td', { 'data-label': 'Last used' }, item.last_used_at ? formatTime(item.last_used_at) : '—'),
    h('td', {}, remove),
  );
}

function addForm(): HTMLElement {
  const name = field(
    'Passkey name',
    { name: 'passkey_name', maxlength: '64' },
    'Optional, e.g. “Laptop”.',
  );
  // Not "Current password": that label belongs to the password form on the same page.
  const password = currentPasswordField('Password to add a passkey', 'passkey_password');
  return submitForm(
    { 'aria-label': 'Add a passkey' },
    'Add a passkey',
    {
      async work(submit) {
        fieldError(password.input, null);
        actionError(submit, null);
        say('Follow your browser’s prompt to create the passkey…');
        await createPasskey(password.input.value, name.input.value || undefined);
        afterFactorChange(
          'Passkey added. Signing in now needs the passkey (or your second factor).',
        );
        navigate('#/account', { force: true });
      },
      fail(error, submit) {
        say('');
        if (error instanceof ApiError && error.status === 400) {
          fieldError(password.input, error.message);
          password.input.focus();
        } else {
          actionError(submit, (error as Error).message);
        }
      },
    },
    name.wrapper,
    password.wrapper,
  );
}

/** API.md 9: the account page's passkeys: list, delete, add. */
export async function passkeysSection(): Promise<HTMLElement> {
  const { items } = await listPasskeys();
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'passkeys-title' },
    h('h2', { id: 'passkeys-title' }, `Passkeys (${items.length})`),
    h(
      'p',
      {},
      'A passkey signs you in without a password, and once you have one, your password alone no longer does.',
    ),
    items.length === 0
      ? null
      : tableRegion(
          'Passkeys',
          h(
            'table',
            { 'data-testid': 'passkeys' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['Name', 'Synced', 'Added', 'Last used'].map((t) =>
                  h('th', { scope: 'col' }, t),
                ),
                h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
              ),
            ),
            h('tbody', {}, ...items.map(passkeyRow)),
          ),
        ),
    passkeysSupported()
      ? addForm()
      : h('p', {}, 'This browser can’t use passkeys here (it needs HTTPS and WebAuthn).'),
  );
}
