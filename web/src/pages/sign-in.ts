import { ApiError, signIn } from '../api.ts';
import { field, h, say } from '../dom.ts';
import { navigate } from '../router.ts';

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
          await signIn(email.input.value, password.input.value);
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
