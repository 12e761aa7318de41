import {
  ApiError,
  changePassword,
  endSession,
  requestEmailChange,
  requestVerification,
  sessions,
  signOut,
  type SessionItem,
  type User,
} from '../api.ts';
import { field, formatTime, h, say } from '../dom.ts';
import { navigate } from '../router.ts';
import { mfaSection } from './account-mfa.ts';
import { passkeysSection } from './passkeys-section.ts';

function passwordForm(): HTMLElement {
  const current = field('Current password', {
    name: 'current_password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const next = field(
    'New password',
    { name: 'new_password', type: 'password', autocomplete: 'new-password', required: true },
    'At least 8 characters; common passwords are refused.',
  );
  const submit = h('button', { type: 'submit' }, 'Change password');
  return h(
    'form',
    {
      'aria-labelledby': 'password-title',
      async onSubmit(event: Event) {
        event.preventDefault();
        current.setError(null);
        next.setError(null);
        submit.setAttribute('disabled', '');
        try {
          await changePassword(current.input.value, next.input.value);
          current.input.value = '';
          next.input.value = '';
          say('Password changed. Your other sessions were signed out.', 'success');
          navigate('#/account', { force: true });
        } catch (error) {
          if (error instanceof ApiError && error.status === 400) current.setError(error.message);
          if (error instanceof ApiError && error.fields.new_password) {
            next.setError(error.fields.new_password);
          }
          say((error as Error).message, 'error');
        } finally {
          submit.removeAttribute('disabled');
        }
      },
    },
    h('h2', { id: 'password-title' }, 'Change password'),
    current.wrapper,
    next.wrapper,
    submit,
  );
}

/** API.md 8: an unverified address, with a way to get a new link. */
function unverifiedBanner(user: User): HTMLElement | null {
  if (user.email_verified) return null;
  const resend = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      async onClick() {
        resend.setAttribute('disabled', '');
        try {
          await requestVerification();
          say(`We sent a new confirmation link to ${user.email}.`, 'success');
        } catch (error) {
          say((error as Error).message, 'error');
        } finally {
          resend.removeAttribute('disabled');
        }
      },
    },
    'Resend confirmation link',
  );
  return h(
    'section',
    {
      class: 'card banner',
      role: 'region',
      'aria-labelledby': 'unverified-title',
      'data-testid': 'unverified-banner',
    },
    h('h2', { id: 'unverified-title' }, 'Please confirm your email address'),
    h('p', {}, `Follow the link we sent to ${user.email}.`),
    resend,
  );
}

/** API.md 8: a confirmation link goes to the new address; the address changes when it is used. */
function emailForm(): HTMLElement {
  const next = field('New email', {
    name: 'new_email',
    type: 'email',
    autocomplete: 'email',
    required: true,
  });
  // Not "Current password": that label belongs to the password form on the same page.
  const current = field('Your password', {
    name: 'current_password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h('button', { type: 'submit' }, 'Change email');
  return h(
    'form',
    {
      'aria-labelledby': 'email-title',
      async onSubmit(event: Event) {
        event.preventDefault();
        next.setError(null);
        current.setError(null);
        submit.setAttribute('disabled', '');
        try {
          await requestEmailChange(next.input.value, current.input.value);
          say(`Check ${next.input.value} for a link to confirm the change.`, 'success');
          next.input.value = '';
          current.input.value = '';
        } catch (error) {
          const apiError = error instanceof ApiError ? error : undefined;
          if (apiError?.fields.new_email) next.setError(apiError.fields.new_email);
          if (apiError?.status === 400) {
            (apiError.message === 'Incorrect password' ? current : next).setError(apiError.message);
          }
          say((error as Error).message, 'error');
        } finally {
          submit.removeAttribute('disabled');
        }
      },
    },
    h('h2', { id: 'email-title' }, 'Change email'),
    next.wrapper,
    current.wrapper,
    submit,
  );
}

function sessionRow(item: SessionItem): HTMLElement {
  const end = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      'aria-label': `Sign out the session from ${item.user_agent ?? 'an unknown device'}`,
      async onClick() {
        try {
          await endSession(item.id);
          if (item.current) {
            await signOut().catch(() => undefined);
            navigate('#/signin');
            return;
          }
          say('Session signed out.', 'success');
          navigate('#/account', { force: true });
        } catch (error) {
          say((error as Error).message, 'error');
        }
      },
    },
    'Sign out',
  );
  return h(
    'tr',
    {},
    h(
      'td',
      { 'data-label': 'Device' },
      item.user_agent ?? 'Unknown device',
      item.current ? h('span', { class: 'badge' }, 'This device') : null,
    ),
    h('td', { 'data-label': 'IP' }, item.ip ?? '—'),
    h('td', { 'data-label': 'Signed in' }, formatTime(item.created_at)),
    h('td', { 'data-label': 'Last used' }, formatTime(item.last_used_at)),
    h('td', {}, end),
  );
}

export async function accountPage(user: User): Promise<HTMLElement> {
  const [{ items }, mfa] = await Promise.all([sessions(), mfaSection()]);
  const everywhere = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      async onClick() {
        try {
          await signOut(true);
          say('Signed out everywhere.', 'success');
        } catch (error) {
          say((error as Error).message, 'error');
        }
        navigate('#/signin');
      },
    },
    'Sign out everywhere',
  );
  return h(
    'div',
    { class: 'stack' },
    unverifiedBanner(user),
    h(
      'section',
      { class: 'card' },
      h('h1', {}, 'Your account'),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Email'),
        h('dd', { 'data-testid': 'account-email' }, user.email),
        h('dt', {}, 'Email confirmed'),
        h('dd', { 'data-testid': 'account-verified' }, user.email_verified ? 'Yes' : 'No'),
        h('dt', {}, 'Role'),
        h('dd', { 'data-testid': 'account-role' }, user.role),
        h('dt', {}, 'Created'),
        h('dd', {}, formatTime(user.created_at)),
      ),
    ),
    h('section', { class: 'card' }, passwordForm()),
    mfa,
    h('section', { class: 'card' }, emailForm()),
    await passkeysSection(),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'sessions-title' },
      h('h2', { id: 'sessions-title' }, `Sessions (${items.length})`),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { 'data-testid': 'sessions' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Device', 'IP', 'Signed in', 'Last used'].map((t) =>
                h('th', { scope: 'col' }, t),
              ),
              // An empty header names nothing: screen readers say "Actions" (axe empty-table-header).
              h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
            ),
          ),
          h('tbody', {}, ...items.map(sessionRow)),
        ),
      ),
      everywhere,
    ),
  );
}
