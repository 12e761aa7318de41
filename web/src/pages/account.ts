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
import { confirmAction } from '../confirm.ts';
import { actionError, emailText, field, formatTime, h, listener, say } from '../dom.ts';
import { submitForm, whileDisabled } from '../submit-form.ts';
import { navigate } from '../router.ts';
import { addVisibilityToggle, currentPasswordField, newPasswordField } from '../password-field.ts';
import { mfaSection } from './account-mfa.ts';
import { passkeysSection } from './passkeys-section.ts';
import { signOutOthersControls } from './other-sessions.ts';

function passwordForm(): HTMLElement {
  const current = currentPasswordField('Current password', 'current_password');
  const next = newPasswordField('New password', 'new_password', 'new password');
  addVisibilityToggle(current.input, 'current password');
  return submitForm(
    { 'aria-labelledby': 'password-title' },
    'Change password',
    {
      async work() {
        current.setError(null);
        next.setError(null);
        await changePassword(current.input.value, next.input.value);
        current.input.value = '';
        next.input.value = '';
        say('Password changed. Your other sessions were signed out.', 'success');
        navigate('#/account', { force: true });
      },
      fail(error) {
        if (error instanceof ApiError && error.status === 400) current.setError(error.message);
        if (error instanceof ApiError && error.fields.new_password) {
          next.setError(error.fields.new_password);
        }
        say((error as Error).message, 'error');
      },
    },
    h('h2', { id: 'password-title' }, 'Change password'),
    current.wrapper,
    next.wrapper,
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
      onClick: listener(() =>
        whileDisabled(
          resend,
          async () => {
            await requestVerification();
            say(`We sent a new confirmation link to ${user.email}.`, 'success');
          },
          (error) => say((error as Error).message, 'error'),
        ),
      ),
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
  const current = currentPasswordField('Your password', 'current_password');
  return submitForm(
    { 'aria-labelledby': 'email-title' },
    'Change email',
    {
      async work() {
        next.setError(null);
        current.setError(null);
        await requestEmailChange(next.input.value, current.input.value);
        say(`Check ${next.input.value} for a link to confirm the change.`, 'success');
        next.input.value = '';
        current.input.value = '';
      },
      fail(error) {
        const apiError = error instanceof ApiError ? error : undefined;
        if (apiError?.fields.new_email) next.setError(apiError.fields.new_email);
        if (apiError?.status === 400) {
          (apiError.message === 'Incorrect password' ? current : next).setError(apiError.message);
        }
        say((error as Error).message, 'error');
      },
    },
    h('h2', { id: 'email-title' }, 'Change email'),
    next.wrapper,
    current.wrapper,
  );
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 31_536_000],
  ['month', 2_592_000],
  ['week', 604_800],
  ['day', 86_400],
  ['hour', 3600],
  ['minute', 60],
];

/**
 * "2 minutes ago", with the exact time and its time zone on hover (`title`) and
 * for machines (`datetime`).
 */
function relativeTime(iso: string): HTMLElement {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('span', {}, iso);
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const [unit, size] = UNITS.find(([, s]) => Math.abs(seconds) >= s) ?? ['second', 1];
  const text =
    unit === 'second' && Math.abs(seconds) < 45
      ? 'just now'
      : RELATIVE.format(Math.round(seconds / size), unit);
  const exact = date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'long' });
  return h('time', { datetime: date.toISOString(), title: exact }, text);
}

function sessionRow(item: SessionItem): HTMLElement {
  const device = item.device ?? 'unknown device';
  const end = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      // The device briefly, never the whole User-Agent string (a screen reader reads it all).
      'aria-label': `Sign out ${device}${item.current ? ' (this device)' : ''}`,
      async onClick() {
        actionError(end, null);
        try {
          await endSession(item.id);
          if (item.current) {
            await signOut().catch(() => undefined);
            navigate('#/signin');
            return;
          }
          say(`Signed out the session on ${device}.`, 'success');
          navigate('#/account', { force: true });
        } catch (error) {
          actionError(end, (error as Error).message);
        }
      },
    },
    'Sign out',
  );
  return h(
    'tr',
    // The shell returns focus to this row after the page is redrawn (dom.ts takeFocusTarget).
    { 'data-row': item.id },
    h(
      'td',
      { 'data-label': 'Device' },
      h('span', { title: item.user_agent ?? undefined }, item.device ?? 'Unknown device'),
      item.current ? h('span', { class: 'badge' }, 'This device') : null,
    ),
    h('td', { 'data-label': 'IP' }, item.ip ?? '—'),
    h('td', { 'data-label': 'Signed in' }, relativeTime(item.created_at)),
    h('td', { 'data-label': 'Last used' }, relativeTime(item.last_used_at)),
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
        // WCAG 3.3.4, as for every action that can't be undone: this device is signed out too.
        const ok = await confirmAction({
          title: 'Sign out everywhere?',
          body: 'Every session of your account ends now, this one included: you will sign in again here.',
          confirm: 'Sign out everywhere',
          danger: true,
        });
        if (!ok) return everywhere.focus();
        actionError(everywhere, null);
        try {
          await signOut(true);
          say('Signed out everywhere.', 'success');
          navigate('#/signin');
        } catch (error) {
          actionError(everywhere, (error as Error).message);
        }
      },
    },
    'Sign out everywhere',
  );
  const others = signOutOthersControls(items.filter((item) => !item.current).length);
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
        h('dd', { 'data-testid': 'account-email' }, emailText(user.email)),
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
      others.offer,
      h('div', { class: 'actions' }, others.button, everywhere),
    ),
  );
}
