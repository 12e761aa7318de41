import { after, before } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../src/config/config.ts';
import { ManualClock, type Clock } from '../../src/domain/clock.ts';
import { buildServer } from '../../src/http/build-server.ts';
import {
  createServices,
  storageOptionsFor,
  type ServiceOverrides,
  type Services,
} from '../../src/services.ts';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import type { StorageBackend } from './storage-backends.ts';
import { testConfig } from './test-config.ts';

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  storage: Storage;
  config: Config;
  clock: Clock;
  close(): Promise<void>;
}

/**
 * A real Gatehouse on a real (in-memory SQLite unless `env` says otherwise) store, driven
 * through `app.inject()`. Pass a ManualClock to control expiry instead of sleeping.
 */
export async function createTestApp(
  options: {
    env?: Record<string, string>;
    clock?: Clock;
    /** The mail sender's tuning (a fast poll, a fixed jitter); it is not started here. */
    mailSender?: ServiceOverrides['mailSender'];
  } = {},
): Promise<TestApp> {
  const config = testConfig(options.env);
  const storage = await openStorage(
    config.storage.databaseUrl,
    storageOptionsFor(config, () => {}),
  );
  await storage.migrate();
  const clock = options.clock ?? new ManualClock();
  const services = await createServices(config, storage, {
    clock,
    mailSender: options.mailSender,
  });
  const app = await buildServer(services, config, {
    logger: false,
    rateLimitRedis: storage.redis?.client,
  });
  await app.ready();
  return {
    app,
    services,
    storage,
    config,
    clock,
    close: async () => {
      await app.close();
      await services.mailSender?.stop();
      await storage.close();
    },
  };
}

/**
 * For the `describe` it is called in: a fresh app on `backend`'s store, with a ManualClock,
 * opened before the suite's tests and closed after them. `suite.t` is set once `before` ran.
 */
export function testAppPerSuite(
  backend: StorageBackend,
  env: Record<string, string> = {},
): { readonly clock: ManualClock; readonly t: TestApp } {
  const clock = new ManualClock();
  let t: TestApp | undefined;
  before(async () => {
    t = await createTestApp({
      clock,
      env: { GATEHOUSE_DATABASE_URL: await backend.freshUrl(), ...env },
    });
  });
  after(() => t?.close());
  return {
    clock,
    get t() {
      if (!t) throw new Error('testAppPerSuite: the suite has not started');
      return t;
    },
  };
}

/** The same, listening on a random port of 127.0.0.1, for tests over a real socket. */
export async function startTestServer(
  options: { env?: Record<string, string>; clock?: Clock } = {},
): Promise<TestApp & { url: string }> {
  const testApp = await createTestApp(options);
  const url = await testApp.app.listen({ host: '127.0.0.1', port: 0 });
  return { ...testApp, url };
}

// The fixtures and the register-and-login step live with the test client; here for older imports.
export { registerAndLogin, STRONG_PASSWORD, uniqueEmail } from './client.ts';

/**
 * For the `describe` it is called in: startTestServer's app, opened before the suite's tests and
 * closed after them, with its port for raw sockets. `suite.t` is set once `before` ran.
 */
export function testServerPerSuite(options: { env?: Record<string, string> } = {}): {
  readonly t: TestApp & { url: string };
  readonly port: number;
} {
  let t: (TestApp & { url: string }) | undefined;
  before(async () => {
    t = await startTestServer(options);
  });
  after(() => t?.close());
  const suite = {
    get t() {
      if (!t) throw new Error('testServerPerSuite: the suite has not started');
      return t;
    },
    get port() {
      return Number(new URL(suite.t.url).port);
    },
  };
  return suite;
}
