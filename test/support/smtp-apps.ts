import { after, before } from 'node:test';
import type { Clock } from '../../src/domain/clock.ts';
import type { ServiceOverrides } from '../../src/services.ts';
import { TestSmtpServer } from './smtp-server.ts';
import { createTestApp, type TestApp } from './test-app.ts';

export const MAIL_PUBLIC_URL = 'https://id.example.com';

export interface SmtpApps {
  smtp: TestSmtpServer;
  /** The first (often the only) app. */
  app: TestApp;
  /** Every app, `app` first. */
  apps: TestApp[];
  /** Closes every app (stopping its sender), then the SMTP server. */
  close(): Promise<void>;
}

/**
 * A TestSmtpServer and `count` apps that send to it, all on one store (`databaseUrl`, else
 * an in-memory SQLite, which only suits one app) and one clock, with GATEHOUSE_PUBLIC_URL set.
 * `env` adds to or overrides that. The senders are created, not started.
 */
export async function startSmtpApps(
  options: {
    count?: number;
    databaseUrl?: string;
    clock?: Clock;
    env?: Record<string, string>;
    mailSender?: ServiceOverrides['mailSender'];
  } = {},
): Promise<SmtpApps> {
  const smtp = await TestSmtpServer.start();
  const apps: TestApp[] = [];
  const close = async () => {
    for (const app of apps) await app.close();
    await smtp.stop();
  };
  try {
    for (let i = 0; i < (options.count ?? 1); i++) {
      apps.push(
        await createTestApp({
          clock: options.clock,
          env: {
            ...(options.databaseUrl ? { GATEHOUSE_DATABASE_URL: options.databaseUrl } : {}),
            GATEHOUSE_SMTP_URL: smtp.url,
            GATEHOUSE_PUBLIC_URL: MAIL_PUBLIC_URL,
            ...options.env,
          },
          mailSender: options.mailSender,
        }),
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { smtp, app: apps[0]!, apps, close };
}

/**
 * For the `describe` it is called in: startSmtpApps(await options()) before the suite's
 * tests, closed after them. The returned function gives them once `before` ran.
 */
export function smtpAppsPerSuite(
  options: () => Promise<Parameters<typeof startSmtpApps>[0]>,
): () => SmtpApps {
  let started: SmtpApps | undefined;
  before(async () => {
    started = await startSmtpApps(await options());
  });
  after(() => started?.close());
  return () => {
    if (!started) throw new Error('smtpAppsPerSuite: the suite has not started');
    return started;
  };
}
