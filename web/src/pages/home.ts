import { h } from '../dom.ts';

/** The first page a signed-out visitor sees: what this is, in one line, and the two ways in. */
export function homePage(): HTMLElement {
  return h(
    'section',
    { class: 'card narrow', 'aria-labelledby': 'home-title' },
    h('h1', { id: 'home-title' }, 'Welcome to Gatehouse'),
    h(
      'p',
      { class: 'lead', 'data-testid': 'home-pitch' },
      'Gatehouse is the sign-in service for this site: one account, with your password, ' +
        'two-factor authentication and signed-in devices in one place.',
    ),
    h(
      'div',
      { class: 'actions' },
      h('a', { class: 'button', href: '#/signin' }, 'Sign in'),
      h('a', { class: 'button secondary', href: '#/signup' }, 'Create account'),
    ),
    h(
      'p',
      { class: 'hint' },
      'Building an application? The API is described at ',
      h('a', { href: '/docs' }, '/docs'),
      '.',
    ),
  );
}
