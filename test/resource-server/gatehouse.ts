// A real Gatehouse on a real port, signing with EdDSA, whose public URL (the issuer of its
// tokens and metadata) is the address it listens on.
import type { ManualClock } from '../../src/domain/clock.ts';
import { freePort } from '../support/free-port.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

export interface RunningGatehouse extends TestApp {
  url: string;
}

/** Gatehouse listening on 127.0.0.1 (at `port`, or a free one), on `databaseUrl`. */
export async function startGatehouse(
  databaseUrl: string,
  clock: ManualClock,
  port?: number,
): Promise<RunningGatehouse> {
  const listenOn = port ?? (await freePort());
  const url = `http://127.0.0.1:${listenOn}`;
  const t = await createTestApp({ clock, env: gatehouseEnv(databaseUrl, url) });
  await t.app.listen({ host: '127.0.0.1', port: listenOn });
  return { ...t, url };
}

/** The environment of a Gatehouse with asymmetric keys and `publicUrl` as its issuer. */
export function gatehouseEnv(databaseUrl: string, publicUrl: string): Record<string, string> {
  return {
    GATEHOUSE_DATABASE_URL: databaseUrl,
    GATEHOUSE_JWT_ALG: 'EdDSA',
    GATEHOUSE_PUBLIC_URL: publicUrl,
  };
}
