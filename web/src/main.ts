import {
  ApiError,
  me,
  refreshSession,
  signedIn,
  signOut,
  type RefreshOutcome,
  type User,
} from './api.ts';
import { h, labelTableRegions, navigationStarts, pageDrawn, say, takeFocusTarget } from './dom.ts';
import { accountPage } from './pages/account.ts';
import { adminAuditPage } from './pages/admin-audit.ts';
import { adminClientsPage } from './pages/admin-clients.ts';
import { adminUsersPage } from './pages/admin-users.ts';
import { homePage } from './pages/home.ts';
import { forgotPasswordPage, resetPasswordPage, verifyEmailPage } from './pages/mail-flows.ts';
import { signInPage } from './pages/sign-in.ts';
import { signUpPage } from './pages/sign-up.ts';
import { currentPath, navigate, setRenderer, type Cause } from './router.ts';

interface Route {
  title: string;
  /**
   * Needs a signed-in user; `admin` also needs the admin role (read fresh on each navigation).
   * `public` pages send a signed-in user to the account; `any` pages (links from mail) don't.
   */
  access: 'public' | 'any' | 'user' | 'admin';
  render(user: User | undefined): HTMLElement | Promise<HTMLElement>;
}

const ROUTES: Record<string, Route> = {
  '#/': { title: 'Welcome', access: 'public', render: homePage },
  '#/signin': { title: 'Sign in', access: 'public', render: signInPage },
  '#/signup': { title: 'Create an account', access: 'public', render: signUpPage },
  '#/forgot-password': { title: 'Forgot password', access: 'public', render: forgotPasswordPage },
  '#/reset-password': { title: 'Set a new password', access: 'any', render: resetPasswordPage },
  '#/verify-email': { title: 'Confirm email', access: 'any', render: verifyEmailPage },
  '#/account': { title: 'Your account', access: 'user', render: (u) => accountPage(u!) },
  '#/admin/users': { title: 'Users', access: 'admin', render: (u) => adminUsersPage(u!) },
  '#/admin/audit': { title: 'Audit log', access: 'admin', render: () => adminAuditPage() },
  '#/admin/clients': { title: 'API clients', access: 'admin', render: () => adminClientsPage() },
};

function renderNav(user: User | undefined): void {
  const link = (href: string, text: string) =>
    h('a', { href, 'aria-current': currentPath() === href ? 'page' : undefined }, text);
  const nav = document.getElementById('nav')!;
  if (!user) {
    nav.replaceChildren(link('#/signin', 'Sign in'), link('#/signup', 'Create account'));
    return;
  }
  nav.replaceChildren(
    link('#/account', 'Account'),
    user.role === 'admin' ? link('#/admin/users', 'Users') : '',
    user.role === 'admin' ? link('#/admin/audit', 'Audit log') : '',
    user.role === 'admin' ? link('#/admin/clients', 'API clients') : '',
    h(
      'button',
      {
        type: 'button',
        class: 'link',
        async onClick() {
          await signOut().catch(() => undefined);
          say('Signed out.', 'success');
          navigate('#/signin');
        },
      },
      'Sign out',
    ),
  );
}

/** The silent refresh could not be answered now (429, 5xx, offline): the session stands. */
class SessionCheckPending extends Error {
  readonly outcome: Extract<RefreshOutcome, { kind: 'unavailable' }>;
  constructor(outcome: Extract<RefreshOutcome, { kind: 'unavailable' }>) {
    super(outcome.message);
    this.outcome = outcome;
  }
}

let retryTimer: ReturnType<typeof setInterval> | undefined;

/**
 * A reload while rate limited (or while the server is down) keeps the session. The
 * page says so, counts down Retry-After's seconds, then tries again; it never shows Sign in.
 */
function retryLater(main: HTMLElement, pending: SessionCheckPending): void {
  clearInterval(retryTimer);
  let left = Math.ceil(pending.outcome.retryAfter);
  const text = h('p', { role: 'status', 'data-testid': 'session-retry' });
  const update = () => {
    text.textContent = `The server is busy, so your session can't be checked right now; you have not been signed out. Retrying in ${left} s.`;
  };
  update();
  main.replaceChildren(
    h('section', { class: 'card narrow' }, h('h1', {}, 'Checking your session'), text),
  );
  retryTimer = setInterval(() => {
    left -= 1;
    if (left > 0) return update();
    clearInterval(retryTimer);
    void render();
  }, 1000);
}

async function currentUser(): Promise<User | undefined> {
  if (!signedIn()) {
    const outcome = await refreshSession();
    if (outcome.kind === 'unavailable') throw new SessionCheckPending(outcome);
    if (outcome.kind === 'signed_out') return undefined;
  }
  try {
    return await me();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return undefined;
    throw error;
  }
}

let latestRender = 0;
/** The path of the page on screen, to tell a redraw of it (after an action) from a page change. */
let drawnPath: string | undefined;

/**
 * WCAG 4.1.3 / 2.4.3: while a page loads, the main region says so (`aria-busy`) and a visible
 * "Loading…" shows; the page on screen stays until the next one is ready (never a blank page).
 */
function busy(on: boolean): void {
  const main = document.getElementById('main')!;
  if (on) main.setAttribute('aria-busy', 'true');
  else main.removeAttribute('aria-busy');
  document.getElementById('loading')!.hidden = !on;
}

/**
 * WCAG 2.4.3 (focus order): after a redraw caused by an action on a table row, focus goes back
 * to that row; otherwise to the page's heading, without letting the browser scroll the header
 * out of view, and the page starts at its top.
 */
function placeFocus(page: HTMLElement, previous: Element | null, samePage: boolean): void {
  const row = takeFocusTarget(page, previous);
  if (row && samePage) {
    row.focus();
    return;
  }
  const heading = page.querySelector<HTMLElement>('h1') ?? document.getElementById('main')!;
  heading.tabIndex = -1;
  heading.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

async function render(cause: Cause = 'user'): Promise<void> {
  const main = document.getElementById('main')!;
  // Navigations can overlap (a click during a slow load): only the latest one may draw.
  const ticket = ++latestRender;
  clearInterval(retryTimer);
  navigationStarts(cause === 'user');
  busy(true);
  try {
    const user = await currentUser();
    const path = currentPath();
    const route = ROUTES[path];
    if (!route) return navigate(user ? '#/account' : '#/');
    if ((route.access === 'user' || route.access === 'admin') && !user) {
      return navigate('#/signin');
    }
    if (route.access === 'public' && user) return navigate('#/account');
    if (route.access === 'admin' && user?.role !== 'admin') {
      say('That page is for admins only.', 'error');
      return navigate('#/account');
    }
    const page = await route.render(user);
    if (ticket !== latestRender) return;
    const previous =
      document.activeElement && main.contains(document.activeElement)
        ? document.activeElement
        : null;
    renderNav(user);
    document.title = `${route.title} · Gatehouse`;
    labelTableRegions(page);
    main.replaceChildren(page);
    placeFocus(page, previous, drawnPath === path);
    drawnPath = path;
    pageDrawn();
  } catch (error) {
    if (error instanceof SessionCheckPending) {
      if (ticket === latestRender) retryLater(main, error);
      return;
    }
    say((error as Error).message, 'error');
  } finally {
    if (ticket === latestRender) busy(false);
  }
}

setRenderer(render);
void render();
