import { ApiError, signIn, signInWithCode, takeSignedOutReason } from '../api.ts';
import { addVisibilityToggle, currentPasswordField } from '../password-field.ts';
import { field, h, listener, say } from '../dom.ts';
import { submitForm, whileDisabled } from '../submit-form.ts';
import { navigate } from '../router.ts';
import { finishWithPasskey, passkeysSupported, signInWithPasskey } from '../passkeys.ts';

/** Runs a passkey ceremony from a button, then goes to the account page. */
function passkeyButton(label: string, run: () => Promise<void>): HTMLElement {
  const button = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onClick: listener(() =>
        whileDisabled(
          button,
          async () => {
            say('Follow your browser’s prompt to use your passkey…');
            await run();
            say('Signed in.', 'success');
            navigate('#/account');
          },
          (error) => say((error as Error).message, 'error'),
        ),
      ),
    },
    label,
  );
  return button;
}

// API.md 9: passwordless, with a discoverable passkey. Its name holds no "Sign in", which
// names the password form's button.
const passkeySignInButton = () => passkeyButton('Use a passkey', signInWithPasskey);
const passkeyMfaButton = (mfaToken: string) =>
  passkeyButton('Use your passkey', () => finishWithPasskey(mfaToken));

/** API.md 9: the second step, for a user with two-factor authentication. */
function codeForm(mfaToken: string, restart: () => void): HTMLElement {
  const code = field(
    'Authentication code',
    {
      name: 'otp',
      autocomplete: 'one-time-code',
      inputmode: 'text',
      required: true,
      autofocus: true,
    },
    'The 6-digit code from your authenticator app, or one of your recovery codes.',
  );
  return submitForm(
    {
      'aria-labelledby': 'signin-title',
      'data-testid': 'mfa-form',
    },
    'Verify',
    {
      async work() {
        code.setError(null);
        say('Checking the code…');
        await signInWithCode(mfaToken, code.input.value.trim());
        say('Signed in.', 'success');
        navigate('#/account');
      },
      fail(error) {
        if (error instanceof ApiError && error.status === 400) {
          // The token may be dead (5 tries, 5 minutes): then only a new sign-in helps.
          const dead = /mfa_token/.test(error.message);
          const message = dead
            ? 'This sign-in expired. Please sign in again.'
            : 'That code is not valid. Try the current one.';
          code.setError(message);
          say(message, 'error');
          if (dead) restart();
        } else {
          code.setError((error as Error).message);
          say((error as Error).message, 'error');
        }
      },
    },
    code.wrapper,
  );
}

export function signInPage(): HTMLElement {
  const mfaStep = h('div', { 'data-testid': 'mfa-step' });
  const email = field('Email', {
    name: 'username',
    type: 'email',
    autocomplete: 'username',
    required: true,
  });
  const password = currentPasswordField('Password', 'password');
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      'aria-labelledby': 'signin-title',
      async onSubmit(event: Event) {
        event.preventDefault();
        submit.setAttribute('disabled', '');
        say('Signing in…');
        try {
          const next = await signIn(email.input.value, password.input.value);
          if (next) {
            password.input.value = '';
            const restart = () => {
              second.replaceWith(form);
              mfaStep.replaceChildren();
            };
            const second = codeForm(next.mfaToken, restart);
            form.replaceWith(second);
            // A passkey finishes the same step (API.md 9), for users who have one.
            if (passkeysSupported()) mfaStep.replaceChildren(passkeyMfaButton(next.mfaToken));
            say('Enter the code from your authenticator app, or use your passkey.');
            second.querySelector('input')?.focus();
            submit.removeAttribute('disabled');
            return;
          }
          say('Signed in.', 'success');
          navigate('#/account');
        } catch (error) {
          const message =
            error instanceof ApiError && error.status === 401
              ? 'Incorrect email or password.'
              : (error as Error).message;
          say(message, 'error');
          password.setError(message);
          if (error instanceof ApiError && error.status === 429 && error.retryAfter) {
            return lockedFor(error, error.retryAfter);
          }
        }
        submit.removeAttribute('disabled');
      },
    },
    email.wrapper,
    password.wrapper,
    submit,
  );
  addVisibilityToggle(password.input);
  let countdown: ReturnType<typeof setInterval> | undefined;
  /**
   * A 429 keeps the button disabled and counts Retry-After down, in the words of
   * the limit that answered (this account's lock, or this network's rate limit).
   */
  function lockedFor(error: ApiError, seconds: number): void {
    let left = Math.ceil(seconds);
    const words =
      error.code === 'too_many_attempts'
        ? 'Too many failed attempts for this account'
        : 'Too many sign-in requests from this network';
    const update = () => {
      const message = `${words}; try again in ${left} s.`;
      password.setError(message);
      submit.setAttribute('data-wait', String(left));
    };
    update();
    clearInterval(countdown);
    countdown = setInterval(() => {
      left -= 1;
      if (!submit.isConnected) return clearInterval(countdown);
      if (left > 0) return update();
      clearInterval(countdown);
      password.setError(null);
      submit.removeAttribute('data-wait');
      submit.removeAttribute('disabled');
      say('You can try again now.');
    }, 1000);
  }
  const reason = takeSignedOutReason();
  return h(
    'section',
    { class: 'card narrow' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    reason ? h('p', { class: 'notice', 'data-testid': 'signed-out-reason' }, `${reason}.`) : null,
    form,
    mfaStep,
    passkeysSupported() ? passkeySignInButton() : null,
    h('p', {}, h('a', { href: '#/forgot-password' }, 'Forgot password?')),
    h('p', {}, 'No account yet? ', h('a', { href: '#/signup' }, 'Create one')),
  );
}
