import {
  chmodSync,
  closeSync,
  existsSync,
  fchmodSync,
  mkdirSync,
  openSync,
  statSync,
} from 'node:fs';
import { dirname } from 'node:path';

// ASVS 4.0 14.1.3 / CWE-276, CWE-732: the database holds the development signing secret and
// session ids; whoever reads the file can mint admin tokens. Only the owner may read it.
const PRIVATE_FILE = 0o600;
const PRIVATE_DIRECTORY = 0o700;

/** Creates the missing directories of `dir`, each 0700 (existing ones are left as they are). */
function createPrivateDirectories(dir: string): void {
  if (existsSync(dir)) return;
  createPrivateDirectories(dirname(dir));
  try {
    mkdirSync(dir, { mode: PRIVATE_DIRECTORY });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  // The mode passed to mkdir is narrowed by the umask; set it exactly.
  chmodSync(dir, PRIVATE_DIRECTORY);
}

/**
 * Makes sure the SQLite database at `path` exists, created 0600 in 0700 directories when
 * Gatehouse creates it, whatever the umask. SQLite gives the -wal and -shm files it creates
 * later the database file's own mode, so they are private too.
 *
 * An existing file keeps its mode (an operator may have chosen it); the returned warnings name
 * each of the database's files that other users can access.
 */
export function preparePrivateSqliteFile(path: string): string[] {
  createPrivateDirectories(dirname(path));
  try {
    const fd = openSync(path, 'wx', PRIVATE_FILE);
    try {
      fchmodSync(fd, PRIVATE_FILE);
    } finally {
      closeSync(fd);
    }
    return [];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return [path, `${path}-wal`, `${path}-shm`].flatMap((file) => {
    const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0;
    return mode & 0o077
      ? [
          `${file} is accessible to other users (mode ${mode.toString(8)}); it holds the ` +
            `signing secret and session ids: run chmod 600 on it`,
        ]
      : [];
  });
}
