import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`gatehouse: no package.json above ${start}`);
  }
}

/**
 * The folder of Gatehouse's package.json, found upward from this module, so that files beside
 * the code (package.json, the built web UI) are found both from src/ (run through tsx) and
 * from the bundled dist/ that `npm start` runs.
 */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
