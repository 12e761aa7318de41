import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/serve.ts';
import { launchBrowser } from '../e2e/browser.ts';
import { testConfig } from './test-config.ts';

/**
 * THE e2e setup, for the `describe` it is called in: a Gatehouse started as `serve` starts it
 * (on a fresh SQLite file, a free port, silent logs, plus `env()`), and Debian's Chromium
 * (test/e2e/browser.ts), both opened before the suite's tests and closed after them.
 */
export function browserSuite(
  name: string,
  env: () => Record<string, string> = () => ({}),
): { readonly url: string; readonly browser: Browser; readonly server: RunningServer } {
  const dir = mkdtempSync(join(tmpdir(), `gatehouse-e2e-${name}-`));
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  before(async () => {
    server = await startServer(
      testConfig({
        GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
        PORT: '0',
        GATEHOUSE_LOG_LEVEL: 'silent',
        ...env(),
      }),
    );
    browser = await launchBrowser();
  });
  after(async () => {
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
      return started(server).url;
    },
    get browser() {
      return started(browser);
    },
    get server() {
      return started(server);
    },
  };
}

/** Fills in and sends the web UI's sign-in form at `url`. */
export async function signIn(page: Page, url: string, email: string, password: string) {
  await page.goto(`${url}/#/signin`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Waits until the UI has drawn a page: `main` no longer aria-busy, with a heading in it.
 * A locator, not `waitForFunction`: the page's CSP (script-src 'self') forbids the eval a
 * string predicate needs, and Chromium refuses it whenever the first poll is not already true.
 */
export async function settled(page: Page, heading = 'h1'): Promise<void> {
  await page.locator(`main#main:not([aria-busy="true"]) :is(${heading})`).first().waitFor();
}
