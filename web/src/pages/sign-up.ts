import { ApiError, register, signIn } from '../api.ts';
import { field, h, say } from '../dom.ts';
import { navigate } from '../router.ts';
import { newPasswordField } from '../password-field.ts';

export function signUpPage(): HTMLElement {
  const email = field('Email', {
    name: 'email',
    type: 'email',
    autocomplete: 'email',
    required: true,
  });
  const password = newPasswordField('Password', 'password');
  const submit = h('button', { type: 'submit' }, 'Create account');
  const form = h(
    'form',
    {
      'aria-labelledby': 'signup-title',
      async onSubmit(event: Event) {
        event.preventDefault();
        email.setError(null);
        password.setError(null);
        submit.setAttribute('disabled', '');
        say('Creating your account…');
        try {
          await register(email.input.value, password.input.value);
          await signIn(email.input.value, password.input.value);
          say('Welcome! Your account is ready.', 'success');
          navigate('#/account');
        } catch (error) {
          const apiError = error instanceof ApiError ? error : undefined;
          // The server's policy message goes next to the field it is about (422 detail list).
          if (apiError?.fields.password) password.setError(apiError.fields.password);
          if (apiError?.fields.email) email.setError(apiError.fields.email);
          if (apiError?.status === 400) email.setError(apiError.message);
          say((error as Error).message, 'error');
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
    h('h1', { id: 'signup-title' }, 'Create an account'),
    form,
    h('p', {}, 'Already registered? ', h('a', { href: '#/signin' }, 'Sign in')),
  );
}
