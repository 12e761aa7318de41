import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startArgs } from '../../scripts/start-args.ts';
import { freePort } from './free-port.ts';
import { waitFor } from './wait.ts';

export interface RunningWorkers {
  /** The primary process; its children are the workers. */
  child: ChildProcess;
  url: string;
  /** SIGKILLs the primary (if still running) and removes the database's folder. */
  cleanUp(): void;
}

/**
 * `gatehouse serve` as built (dist/) with GATEHOUSE_WORKERS=2 on a fresh SQLite file, once
 * /healthz answers. `env` adds to or overrides the defaults.
 */
export async function startWorkers(
  env: Record<string, string> = {},
  healthTimeoutMs = 30_000,
): Promise<RunningWorkers> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-workers-'));
  const port = await freePort();
  const child = spawn(process.execPath, startArgs(), {
    env: {
      ...process.env,
      PORT: String(port),
      GATEHOUSE_WORKERS: '2',
      GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
      GATEHOUSE_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const cleanUp = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `${url}/healthz`,
      async () => {
        try {
          return (await fetch(`${url}/healthz`)).ok;
        } catch {
          return false; // not listening yet
        }
      },
      healthTimeoutMs,
    );
  } catch (error) {
    cleanUp();
    throw error;
  }
  return { child, url, cleanUp };
}
