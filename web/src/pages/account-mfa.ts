import {
  ApiError,
  confirmTotp,
  disableTotp,
  mfaStatus,
  newRecoveryCodes,
  startTotp,
} from '../api.ts';
import { actionError, field, fieldError, h, say } from '../dom.ts';
import { submitForm } from '../submit-form.ts';
import { currentPasswordField } from '../password-field.ts';
import { navigate } from '../router.ts';
import { afterFactorChange } from './other-sessions.ts';

const TITLE = 'mfa-title';

function passwordField() {
  // Its own label: "Current password" and "Your password" belong to the other forms.
  return currentPasswordField('Password for two-factor', 'mfa_password');
}

/**
 * The 10 recovery codes, shown once (API.md 9), to copy or download. `saved` runs when the user
 * says they are saved, before the account page is drawn again.
 */
function recoveryCodesView(codes: string[], saved?: () => void): HTMLElement {
  const text = `${codes.join('\n')}\n`;
  const copy = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      async onClick() {
        try {
          await navigator.clipboard.writeText(text);
          say('Recovery codes copied.', 'success');
        } catch {
          actionError(copy, 'Copying is not allowed here; select the codes and copy them.');
        }
      },
    },
    'Copy codes',
  );
  const download = h(
    'a',
    {
      class: 'button secondary',
      href: `data:text/plain;charset=utf-8,${encodeURIComponent(text)}`,
      download: 'gatehouse-recovery-codes.txt',
    },
    'Download codes',
  );
  const done = h(
    'button',
    {
      type: 'button',
      onClick: () => {
        saved?.();
        navigate('#/account', { force: true });
      },
    },
    'I saved my codes',
  );
  return h(
    'div',
    { 'data-testid': 'recovery-codes-view' },
    h(
      'p',
      {},
      'Save these recovery codes somewhere safe. Each one signs you in once if you lose your ',
      'authenticator app. They will not be shown again.',
    ),
    h(
      'ol',
      { class: 'codes', 'data-testid': 'recovery-codes' },
      ...codes.map((c) => h('li', {}, h('code', {}, c))),
    ),
    h('div', { class: 'actions' }, copy, download, done),
  );
}

/** Enrolment: the QR code and the key to type, then the first code turns TOTP on. */
function enrolView(section: HTMLElement, started: { secret: string; qr_svg: string }): HTMLElement {
  const code = field(
    'Code from the app',
    { name: 'totp_code', autocomplete: 'one-time-code', inputmode: 'numeric', required: true },
    'Enter the 6-digit code your app shows for Gatehouse.',
  );
  const secretInput = h('input', {
    id: 'totp-secret',
    readonly: true,
    value: started.secret,
    'data-testid': 'totp-secret',
  });
  return submitForm(
    { 'aria-labelledby': TITLE },
    'Turn on',
    {
      async work() {
        fieldError(code.input, null);
        const { recovery_codes } = await confirmTotp(code.input.value.trim());
        say('Two-factor authentication is on.', 'success');
        // The offer to sign out other sessions waits until the codes are saved: acting on it
        // redraws the page, which must not take the codes off the screen first.
        section.replaceChildren(
          h('h2', { id: TITLE }, 'Two-factor authentication'),
          recoveryCodesView(recovery_codes, () =>
            afterFactorChange('Two-factor authentication is on.'),
          ),
        );
      },
      fail(error) {
        fieldError(code.input, (error as Error).message);
        code.input.focus();
      },
    },
    h('p', {}, 'Scan this QR code with your authenticator app, or type the key below.'),
    // Rendered by the server (no third party sees the secret); an image, never markup.
    h('img', {
      class: 'qr',
      alt: 'QR code for your authenticator app',
      width: '200',
      height: '200',
      src: `data:image/svg+xml;base64,${btoa(started.qr_svg)}`,
    }),
    h('div', { class: 'field' }, h('label', { for: 'totp-secret' }, 'Setup key'), secretInput),
    code.wrapper,
  );
}

/** The account page's two-factor section (API.md 9). */
export async function mfaSection(): Promise<HTMLElement> {
  const status = await mfaStatus();
  const section = h('section', {
    class: 'card',
    'aria-labelledby': TITLE,
    'data-testid': 'mfa',
  });
  const password = passwordField();
  // A wrong password is the password field's error; anything else, the button's.
  const showError = (button: HTMLElement, error: unknown) => {
    if (error instanceof ApiError && error.status === 400) {
      fieldError(password.input, error.message);
      password.input.focus();
    } else {
      actionError(button, (error as Error).message);
    }
  };
  const clear = (button: HTMLElement) => {
    fieldError(password.input, null);
    actionError(button, null);
  };
  const title = h('h2', { id: TITLE }, 'Two-factor authentication');
  if (status.totp !== 'enabled') {
    section.append(
      title,
      h(
        'p',
        { 'data-testid': 'mfa-status' },
        'Off. Protect your account with an authenticator app.',
      ),
      submitForm(
        { 'aria-labelledby': TITLE },
        'Set up two-factor authentication',
        {
          async work(start) {
            clear(start);
            const started = await startTotp(password.input.value);
            section.replaceChildren(title, enrolView(section, started));
          },
          fail(error, start) {
            showError(start, error);
          },
        },
        password.wrapper,
      ),
    );
    return section;
  }
  const regenerate = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      async onClick() {
        clear(regenerate);
        try {
          const { recovery_codes } = await newRecoveryCodes(password.input.value);
          // Recovery codes are a second factor too (ASVS 5.0 7.4.3): once the new ones are
          // saved, the page offers to sign out the other sessions, as after any factor change.
          section.replaceChildren(
            title,
            recoveryCodesView(recovery_codes, () =>
              afterFactorChange('New recovery codes are in place: the old ones no longer work.'),
            ),
          );
        } catch (error) {
          showError(regenerate, error);
        }
      },
    },
    'New recovery codes',
  );
  const off = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      async onClick() {
        clear(off);
        try {
          await disableTotp(password.input.value);
          afterFactorChange('Two-factor authentication is off.');
          navigate('#/account', { force: true });
        } catch (error) {
          showError(off, error);
        }
      },
    },
    'Turn off two-factor',
  );
  section.append(
    title,
    h(
      'p',
      { 'data-testid': 'mfa-status' },
      `On (authenticator app). ${status.recovery_codes_left} recovery codes left.`,
    ),
    password.wrapper,
    h('div', { class: 'actions' }, regenerate, off),
  );
  return section;
}
