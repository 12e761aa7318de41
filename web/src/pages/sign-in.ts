import { ApiError, signIn, signInWithCode } from '../api.ts';
import { field, h, say } from '../dom.ts';
import { navigate } from '../router.ts';

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
  const submit = h('button', { type: 'submit' }, 'Verify');
  return h(
    'form',
    {
      'aria-labelledby': 'signin-title',
      'data-testid': 'mfa-form',
      async onSubmit(event: Event) {
        event.preventDefault();
        submit.setAttribute('disabled', '');
        code.setError(null);
        say('Checking the code…');
        try {
          await signInWithCode(mfaToken, code.input.value.trim());
          say('Signed in.', 'success');
          navigate('#/account');
        } catch (error) {
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
        } finally {
          submit.removeAttribute('disabled');
        }
      },
    },
    code.wrapper,
    submit,
  );
}

export function signInPage(): HTMLElement {
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
          const next = await signIn(email.input.value, password.input.value);
          if (next) {
            password.input.value = '';
            const restart = () => {
              second.replaceWith(form);
            };
            const second = codeForm(next.mfaToken, restart);
            form.replaceWith(second);
            say('Enter the code from your authenticator app.');
            second.querySelector('input')?.focus();
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
    h('p', {}, h('a', { href: '#/forgot-password' }, 'Forgot password?')),
    h('p', {}, 'No account yet? ', h('a', { href: '#/signup' }, 'Create one')),
  );
}
