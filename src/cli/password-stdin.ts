import type { Readable } from 'node:stream';

// Far above any password the policy accepts; a bigger input is a mistake (a file piped in
// by accident), and is not read into memory.
const MAX_INPUT_BYTES = 64 * 1024;

/** Why `--password-stdin` could not take a password; printed as one `error:` line. */
export class PasswordInputError extends Error {}

/**
 * The password for `--password-stdin`: one line read from `input` (a pipe or a file), like
 * `docker login --password-stdin`. Unlike `--password <password>`, it never appears in the
 * process list or the shell history (CWE-214: sensitive information in a process invocation).
 * A terminal is refused rather than echoing what is typed.
 */
export async function readPasswordFromStdin(
  input: Readable & { isTTY?: boolean } = process.stdin,
): Promise<string> {
  if (input.isTTY) {
    throw new PasswordInputError(
      '--password-stdin reads a pipe or a file, not a terminal: printf \'%s\\n\' "$PASSWORD" | gatehouse users create ... --password-stdin',
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_INPUT_BYTES) {
      input.destroy();
      throw new PasswordInputError('--password-stdin: the input is far longer than a password');
    }
    chunks.push(bytes);
  }
  // One trailing line ending is the pipe's, not the password's (echo, printf '%s\n', a file).
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (/[\r\n]/.test(password)) {
    throw new PasswordInputError('--password-stdin: expected one line, the password, and got more');
  }
  return password;
}
