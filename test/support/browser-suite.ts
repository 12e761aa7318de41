import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type {
  Browser,
  BrowserContext,
  BrowserContextOptions,
  Locator,
  Page,
} from 'playwright-core';
import { startServer, type RunningServer } from '../../src/serve.ts';
import { launchBrowser, watchForeignRequests } from '../e2e/browser.ts';
import { register, STRONG_PASSWORD } from './client.ts';
import { freePort } from './free-port.ts';
import { testConfig } from './test-config.ts';

/** The bootstrap admin of a suite started with `admin: true`. */
export const ADMIN = { email: 'root@example.com', password: 'admin passphrase for e2e' };

export interface BrowserSuiteOptions {
  /** Settings added to the server's; read when the suite starts, after earlier `before` hooks. */
  env?: () => Record<string, string>;
  /** Starts the server with ADMIN as its bootstrap admin. */
  admin?: boolean;
  /**
   * Where the server listens and says it is. 'any-port' (the default): PORT=0. 'fixed-port': a
   * free port chosen first, so the links in the mail it sends lead to where it listens.
   * 'localhost': that port as http://localhost:PORT, its public URL: a secure context and a valid
   * WebAuthn RP ID (127.0.0.1 is neither), so the passkey pages work.
   */
  address?: 'any-port' | 'fixed-port' | 'localhost';
}

export interface BrowserSuite {
  readonly url: string;
  readonly browser: Browser;
  readonly server: RunningServer;
  /** Every request that left `url`, from every page `newPage` made (none may: the CSP says so). */
  readonly foreign: readonly string[];
  /** A page in a context of its own (its own cookie jar), closed after the suite. */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  /** POST /users/ (API.md 1) through test/support/client.ts; fails unless 200; the user's id. */
  register(email: string, password?: string): Promise<number>;
}

async function listenSettings(
  address: BrowserSuiteOptions['address'],
): Promise<{ env: Record<string, string>; url?: string }> {
  if (address === undefined || address === 'any-port') return { env: { PORT: '0' } };
  const port = String(await freePort());
  if (address === 'fixed-port') return { env: { PORT: port } };
  const url = `http://localhost:${port}`;
  return { env: { PORT: port, GATEHOUSE_PUBLIC_URL: url }, url };
}

/**
 * THE e2e setup, for the `describe` it is called in: a Gatehouse started as `serve` starts it
 * (on a fresh SQLite file, silent logs, plus the options' settings), and Debian's Chromium
 * (test/e2e/browser.ts), both opened before the suite's tests and closed after them, with the
 * contexts of every page the suite made.
 */
export function browserSuite(name: string, options: BrowserSuiteOptions = {}): BrowserSuite {
  const dir = mkdtempSync(join(tmpdir(), `gatehouse-e2e-${name}-`));
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let url: string | undefined;
  const contexts: BrowserContext[] = [];
  const seen: string[][] = [];
  before(async () => {
    const listen = await listenSettings(options.address);
    server = await startServer(
      testConfig({
        GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
        GATEHOUSE_LOG_LEVEL: 'silent',
        ...listen.env,
        ...(options.admin
          ? {
              GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
              GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
            }
          : {}),
        ...options.env?.(),
      }),
    );
    url = listen.url ?? server.url;
    browser = await launchBrowser();
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('browserSuite: the suite has not started');
    return value;
  };
  return {
    get url() {
      return started(url);
    },
    get browser() {
      return started(browser);
    },
    get server() {
      return started(server);
    },
    get foreign() {
      return seen.flat();
    },
    async newPage(contextOptions = {}) {
      const context = await started(browser).newContext(contextOptions);
      contexts.push(context);
      const page = await context.newPage();
      seen.push(watchForeignRequests(page, started(url)));
      return page;
    },
    async register(email, password = STRONG_PASSWORD) {
      const response = await register(started(server).app, email, password);
      assert.equal(response.statusCode, 200, response.body);
      return (response.json() as { id: number }).id;
    },
  };
}

/** Fills in and sends the sign-in form the page is showing. */
export async function submitSignIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/**
 * Opens the web UI's sign-in page at `url`, waits for its form (after a page change the old
 * page stays on screen until the new one is drawn) and sends it.
 */
export async function signIn(page: Page, url: string, email: string, password: string) {
  await page.goto(`${url}/#/signin`);
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  await submitSignIn(page, email, password);
}

/** Fills in and sends the sign-up form the page is showing. */
export async function submitSignUp(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

/** signIn, then waits for the account page it leads to. */
export async function signInToAccount(page: Page, url: string, email: string, password: string) {
  await signIn(page, url, email, password);
  await page.getByTestId('account-email').waitFor();
}

/**
 * The app's own confirmation `dialog`, just opened: focus starts on Cancel (the safe choice),
 * and Escape closes it.
 */
export async function assertDialogEscapes(page: Page, dialog: Locator): Promise<void> {
  await dialog.waitFor();
  assert.equal(
    await page.evaluate('document.activeElement?.textContent'),
    'Cancel',
    'focus starts on Cancel',
  );
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
}

/**
 * Waits until the UI has drawn a page: `main` no longer aria-busy, with a heading in it.
 * A locator, not `waitForFunction`: the page's CSP (script-src 'self') forbids the eval a
 * string predicate needs, and Chromium refuses it whenever the first poll is not already true.
 */
export async function settled(page: Page, heading = 'h1'): Promise<void> {
  await page.locator(`main#main:not([aria-busy="true"]) :is(${heading})`).first().waitFor();
}
