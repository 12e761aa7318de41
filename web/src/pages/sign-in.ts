import { ApiError, signIn } from '../api.ts';
import { field, h, say } from '../dom.ts';
import { navigate } from '../router.ts';
import { finishWithPasskey, passkeysSupported, signInWithPasskey } from '../passkeys.ts';

/** Runs a passkey ceremony from a button, then goes to the account page. */
function passkeyButton(label: string, run: () => Promise<void>): HTMLElement {
  const button = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      async onClick() {
        button.setAttribute('disabled', '');
        say('Follow your browser’s prompt to use your passkey…');
        try {
          await run();
          say('Signed in.', 'success');
          navigate('#/account');
        } catch (error) {
          say((error as Error).message, 'error');
        } finally {
          button.removeAttribute('disabled');
        }
      },
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

export function signInPage(): HTMLElement {
  const mfaStep = h('div', { 'data-testid': 'mfa-step' });
  const email = field('Email', {
    name: 'username',
    type: 'email',
    autocomplete: 'username',
    required: true,
  });
  const password = field('Password', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
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
          await signIn(email.input.value, password.input.value);
          say('Signed in.', 'success');
          navigate('#/account');
        } catch (error) {
          // API.md 9: the password was right and a second factor is needed.
          if (error instanceof ApiError && error.mfaToken !== undefined) {
            mfaStep.replaceChildren(passkeyMfaButton(error.mfaToken));
            say('Your password was right. Now confirm with your passkey.');
            return;
          }
          const message =
            error instanceof ApiError && error.status === 401
              ? 'Incorrect email or password.'
              : (error as Error).message;
          say(message, 'error');
          password.setError(message);
        } finally {
          submit.removeAttribute('disabled');
        }
      },
    },
    email.wrapper,
    password.wrapper,
    submit,
  );
  return h(
    'section',
    { class: 'card narrow' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    form,
    mfaStep,
    passkeysSupported() ? passkeySignInButton() : null,
    h('p', {}, h('a', { href: '#/forgot-password' }, 'Forgot password?')),
    h('p', {}, 'No account yet? ', h('a', { href: '#/signup' }, 'Create one')),
  );
}
