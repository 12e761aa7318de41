import { ApiError, register, signIn } from '../api.ts';
import { field, h, say } from '../dom.ts';
import { submitForm } from '../submit-form.ts';
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
  const form = submitForm(
    { 'aria-labelledby': 'signup-title' },
    'Create account',
    {
      async work() {
        email.setError(null);
        password.setError(null);
        say('Creating your account…');
        await register(email.input.value, password.input.value);
        await signIn(email.input.value, password.input.value);
        say('Welcome! Your account is ready.', 'success');
        navigate('#/account');
      },
      fail(error) {
        const apiError = error instanceof ApiError ? error : undefined;
        // The server's policy message goes next to the field it is about (422 detail list).
        if (apiError?.fields.password) password.setError(apiError.fields.password);
        if (apiError?.fields.email) email.setError(apiError.fields.email);
        if (apiError?.status === 400) email.setError(apiError.message);
        say((error as Error).message, 'error');
      },
    },
    email.wrapper,
    password.wrapper,
  );
  return h(
    'section',
    { class: 'card narrow' },
    h('h1', { id: 'signup-title' }, 'Create an account'),
    form,
    h('p', {}, 'Already registered? ', h('a', { href: '#/signin' }, 'Sign in')),
  );
}
