import { ApiError, confirmEmailToken, confirmPasswordReset, requestPasswordReset } from '../api.ts';
import { actionError, field, fieldError, h, say } from '../dom.ts';
import { submitForm } from '../submit-form.ts';
import { newPasswordField } from '../password-field.ts';
import { currentParams, navigate } from '../router.ts';

/**
 * The token of a link from a message, taken out of the address bar at once (history, screen
 * sharing, a bookmark). It arrives in the fragment, which no server or Referer ever sees.
 */
function takeToken(page: string): string {
  const token = currentParams().token ?? '';
  if (token) history.replaceState(null, '', page);
  return token;
}

/** "Forgot password?": asks for a reset link; the answer is the same for any address. */
export function forgotPasswordPage(): HTMLElement {
  const email = field('Email', {
    name: 'email',
    type: 'email',
    autocomplete: 'email',
    required: true,
  });
  const form = submitForm(
    { 'aria-labelledby': 'forgot-title' },
    'Send reset link',
    {
      async work() {
        fieldError(email.input, null);
        const { detail } = await requestPasswordReset(email.input.value);
        say(`${detail}. Check your inbox.`, 'success');
      },
      fail(error) {
        fieldError(email.input, (error as Error).message);
        email.input.focus();
      },
    },
    email.wrapper,
  );
  return h(
    'section',
    { class: 'card narrow' },
    h('h1', { id: 'forgot-title' }, 'Forgot your password?'),
    h(
      'p',
      {},
      'Enter the address you registered with and we will send you a link to set a new password.',
    ),
    form,
    h('p', {}, h('a', { href: '#/signin' }, 'Back to sign in')),
  );
}

/** The page a reset link opens: a new password, then sign in again (every session ended). */
export function resetPasswordPage(): HTMLElement {
  const token = takeToken('#/reset-password');
  const password = newPasswordField('New password', 'new_password', 'new password');
  const form = submitForm(
    { 'aria-labelledby': 'reset-title' },
    'Set new password',
    {
      async work(submit) {
        fieldError(password.input, null);
        actionError(submit, null);
        await confirmPasswordReset(token, password.input.value);
        say(
          'Password changed. Every session was signed out; sign in with the new password.',
          'success',
        );
        navigate('#/signin');
      },
      fail(error, submit) {
        const apiError = error instanceof ApiError ? error : undefined;
        if (apiError?.fields.new_password) {
          fieldError(password.input, apiError.fields.new_password);
          password.input.focus();
        } else {
          const message =
            apiError?.status === 400
              ? 'This link is invalid or has expired. Ask for a new one.'
              : (error as Error).message;
          actionError(submit, message);
        }
      },
    },
    password.wrapper,
  );
  return h(
    'section',
    { class: 'card narrow' },
    h('h1', { id: 'reset-title' }, 'Set a new password'),
    token ? form : h('p', {}, 'This page needs the link from the reset message.'),
    h('p', {}, h('a', { href: '#/forgot-password' }, 'Ask for a new link')),
  );
}

/** The page a verification or email-change link opens; confirms on load. */
export async function verifyEmailPage(): Promise<HTMLElement> {
  const token = takeToken('#/verify-email');
  const result = h('p', { 'data-testid': 'verify-result' });
  try {
    if (!token) throw new ApiError(400, 'This page needs the link from the message.');
    await confirmEmailToken(token);
    result.textContent = 'Your email address is confirmed.';
    say('Email address confirmed.', 'success');
  } catch (error) {
    const message =
      error instanceof ApiError &&
      error.status === 400 &&
      error.message !== 'Email already registered'
        ? 'This link is invalid or has expired.'
        : (error as Error).message;
    result.textContent = message;
    result.className = 'error';
  }
  return h(
    'section',
    { class: 'card narrow' },
    h('h1', {}, 'Confirm your email address'),
    result,
    h('p', {}, h('a', { href: '#/account' }, 'Go to your account')),
  );
}
