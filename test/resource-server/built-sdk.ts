import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/package-root.ts';

const BUNDLE = join(PACKAGE_ROOT, 'dist', 'resource-server.js');

function newestSource(): number {
  const dir = join(PACKAGE_ROOT, 'src', 'resource-server');
  return Math.max(...readdirSync(dir).map((name) => statSync(join(dir, name)).mtimeMs));
}

/**
 * The built gatehouse/resource-server, as the package exports it. `npm test` builds first
 * (pretest); a single-file run builds here when the bundle is missing or older than its source.
 */
export function ensureSdkBuilt(): void {
  if (!existsSync(BUNDLE) || statSync(BUNDLE).mtimeMs < newestSource()) {
    execFileSync(process.execPath, [join(PACKAGE_ROOT, 'scripts', 'build-server.mjs')], {
      cwd: PACKAGE_ROOT,
    });
  }
}
