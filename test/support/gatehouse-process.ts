import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, cleanEnv, ROOT } from './cli-run.ts';
import { freePort } from './free-port.ts';
import { waitFor } from './wait.ts';

export { cleanEnv, ROOT };
/** The one poller (wait.ts), exported here for the suites that start processes. */
export { waitFor };

const START_TIMEOUT_MS = 45_000;

export interface RunningProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Spawns `command args` (which must listen on `port`), and waits until GET `url + readyPath`
 * answers 200. The process is killed if it does not come up.
 */
export async function startProcess(options: {
  command: string;
  args: string[];
  port: number;
  readyPath: string;
  cwd?: string;
  env: NodeJS.ProcessEnv;
}): Promise<RunningProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const child = spawn(options.command, options.args, {
    cwd: options.cwd ?? ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await closed;
  };
  try {
    await waitFor(
      `${options.command} ${options.args.join(' ')} to answer ${options.readyPath}`,
      () => {
        if (child.exitCode !== null) {
          throw new Error(`${options.command} exited early (${child.exitCode}): ${output}`);
        }
        return fetch(`${url}${options.readyPath}`).then(
          (response) => response.ok,
          () => false,
        );
      },
      START_TIMEOUT_MS,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { url, child, output: () => output, stop };
}

/** `gatehouse serve` on a free port of 127.0.0.1 with `env` (and nothing else of GATEHOUSE_*). */
export async function startGatehouse(env: Record<string, string>): Promise<RunningProcess> {
  const port = await freePort();
  return startProcess({
    command: process.execPath,
    args: [BIN, 'serve', '--host', '127.0.0.1', '--port', String(port)],
    port,
    readyPath: '/healthz',
    env: cleanEnv({ GATEHOUSE_PUBLIC_URL: `http://127.0.0.1:${port}`, ...env }),
  });
}
