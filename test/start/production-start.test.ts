import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildIsStale } from '../../bin/build-state.js';
import { freePort } from '../support/free-port.ts';
import { cleanEnv, ROOT, waitFor } from '../support/gatehouse-process.ts';

// `npm start` runs what `npm ci` built and never builds, so instances started at once
// from one checkout don't race over dist/, a read-only image starts, and the installed package
// runs without its build tools (esbuild, tsx: dev dependencies).

const SECRET = 'test-secret-test-secret-test-secret-0123456789';
const BUILD_TOOLS = new Set(['esbuild', '@esbuild', 'tsx', '.bin']);

/** Every file under `dir` with its modification time: what a rebuild or a write would change. */
function snapshot(dir: string): Map<string, number> {
  const files = new Map<string, number>();
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!entry.isSymbolicLink()) files.set(relative(dir, full), statSync(full).mtimeMs);
    }
  };
  walk(dir);
  return files;
}

interface Instance {
  url: string;
  /** npm's own process: the server and its workers are its descendants. */
  pid: number;
  exited(): boolean;
  output(): string;
  stop(): Promise<void>;
}

/**
 * `npm start` in `cwd` on a free port. npm runs the command through a shell, so the instance
 * gets its own process group and stop() signals all of it.
 */
async function npmStart(cwd: string, env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const child = spawn('npm', ['start', '--silent'], {
    cwd,
    env: cleanEnv({ ...env, PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  const closed = new Promise<void>((resolve) =>
    child.once('close', () => {
      exited = true;
      resolve();
    }),
  );
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    exited: () => exited,
    output: () => output,
    stop: async () => {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 10_000);
      await closed;
      clearTimeout(timer);
    },
  };
}

async function healthy(instance: Instance): Promise<void> {
  await waitFor(`${instance.url}/healthz`, () => {
    if (instance.exited()) throw new Error(`npm start exited: ${instance.output()}`);
    return fetch(`${instance.url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
  });
}

/** The node processes under `pid` (children, their children, ...) that run dist/main.js. */
function servers(pid: number): number[] {
  const children = (id: number) =>
    readFileSync(`/proc/${id}/task/${id}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  const found: number[] = [];
  for (const child of children(pid)) {
    // node itself, not npm's `sh -c "... node dist/main.js"` around it
    const [command, ...args] = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
    if (command!.endsWith('node') && args.some((arg) => arg.endsWith('dist/main.js')))
      found.push(child);
    found.push(...servers(child));
  }
  return found;
}

describe('production start', () => {
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-start-'));
  const running: Instance[] = [];

  before(() => {
    // `npm test` builds first; a single-file run builds here when src/ changed since.
    if (buildIsStale(ROOT, 'dist/main.js')) {
      execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-server.mjs')], { cwd: ROOT });
    }
  });

  after(async () => {
    await Promise.all(running.map((instance) => instance.stop()));
    execFileSync('chmod', ['-R', 'u+w', work]);
    rmSync(work, { recursive: true, force: true });
  });

  it('two `npm start` from one checkout at once both come up, and neither rebuilds dist/', async () => {
    const dist = join(ROOT, 'dist');
    const built = snapshot(dist);
    const env = {
      GATEHOUSE_DATABASE_URL: `sqlite:${join(work, 'shared.db')}`,
      GATEHOUSE_JWT_SECRET: SECRET,
    };
    const pair = await Promise.all([npmStart(ROOT, env), npmStart(ROOT, env)]);
    running.push(...pair);
    await Promise.all(pair.map(healthy));
    for (const instance of pair) {
      const me = await fetch(`${instance.url}/users/me/`);
      assert.equal(me.status, 401, 'each instance serves the API');
    }
    assert.deepEqual(snapshot(dist), built, 'dist/ is the same files, untouched');
  });

  it('`npm start` runs the server and every --workers process with the allocator settings of BENCHMARKS.md', async () => {
    const instance = await npmStart(ROOT, {
      GATEHOUSE_DATABASE_URL: `sqlite:${join(work, 'workers.db')}`,
      GATEHOUSE_JWT_SECRET: SECRET,
      GATEHOUSE_WORKERS: '2',
    });
    running.push(instance);
    await healthy(instance);
    // glibc reads these when a process starts: the primary and each forked worker need them.
    await waitFor('the primary and 2 workers', () => servers(instance.pid).length === 3);
    for (const pid of servers(instance.pid)) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      assert.ok(environ.includes('MALLOC_ARENA_MAX=2'), `process ${pid}: MALLOC_ARENA_MAX=2`);
      assert.ok(
        environ.includes('MALLOC_MMAP_THRESHOLD_=131072'),
        `process ${pid}: MALLOC_MMAP_THRESHOLD_=131072`,
      );
    }
  });

  it('a read-only copy of the package starts, without esbuild or tsx installed', async () => {
    const app = join(work, 'app');
    // What package.json "files" ships. src/ is copied last, so it is newer than dist/: the CLI
    // would run it through tsx in a checkout, and here, without tsx, runs dist/cli.js.
    for (const path of ['dist', 'bin', 'web/dist', 'package.json', 'src']) {
      cpSync(join(ROOT, path), join(app, path), { recursive: true });
    }
    // The production dependencies: every package of the checkout but the build tools.
    mkdirSync(join(app, 'node_modules'));
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (!BUILD_TOOLS.has(name)) {
        symlinkSync(join(ROOT, 'node_modules', name), join(app, 'node_modules', name));
      }
    }
    execFileSync('chmod', ['-R', 'a-w', app]);
    const before = snapshot(app);
    mkdirSync(join(work, 'data'));
    const env = {
      GATEHOUSE_DATABASE_URL: `sqlite:${join(work, 'data', 'gatehouse.db')}`,
      GATEHOUSE_JWT_SECRET: SECRET,
    };

    const started = await npmStart(app, env);
    running.push(started);
    await healthy(started);
    const ui = await fetch(`${started.url}/`);
    assert.equal(ui.status, 200, 'the web UI comes from the copied web/dist');
    assert.match(await ui.text(), /<script/);

    // The CLI of the copy, on the server's store: queueing a message reads the mail templates
    // the package ships in src/mail/templates.
    const cli = spawn(
      process.execPath,
      [join(app, 'bin', 'gatehouse.js'), 'mail', 'test', '--to', 'ops@example.com'],
      { cwd: app, env: cleanEnv(env) },
    );
    let out = '';
    cli.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    cli.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => cli.once('close', resolve));
    assert.equal(code, 0, out);
    assert.match(out, /"queued":1/);

    // As root, chmod does not stop writes; this does: nothing in the copy changed.
    assert.deepEqual(snapshot(app), before, 'the server wrote nothing into its package');
  });
});
