import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { PasswordInputError, readPasswordFromStdin } from './password-stdin.ts';

const from = (...chunks: string[]) => Readable.from(chunks.map((chunk) => Buffer.from(chunk)));

describe('readPasswordFromStdin (--password-stdin)', () => {
  it('takes one line, without the line ending a pipe or a file adds', async () => {
    assert.equal(await readPasswordFromStdin(from('correct horse\n')), 'correct horse');
    assert.equal(await readPasswordFromStdin(from('correct horse\r\n')), 'correct horse');
    assert.equal(await readPasswordFromStdin(from('no newline at all')), 'no newline at all');
    assert.equal(
      await readPasswordFromStdin(from('split ', 'over ', 'chunks\n')),
      'split over chunks',
    );
    // Spaces are part of a passphrase: only the line ending goes.
    assert.equal(await readPasswordFromStdin(from('  spaced  \n')), '  spaced  ');
  });

  it('refuses a terminal instead of echoing the password', async () => {
    const terminal = Object.assign(from('typed\n'), { isTTY: true });
    await assert.rejects(readPasswordFromStdin(terminal), (error: unknown) => {
      assert.ok(error instanceof PasswordInputError);
      assert.match(error.message, /not a terminal/);
      return true;
    });
  });

  it('refuses more than one line and input far longer than a password', async () => {
    await assert.rejects(readPasswordFromStdin(from('first\nsecond\n')), /one line/);
    await assert.rejects(readPasswordFromStdin(from('x'.repeat(70_000))), /far longer/);
  });
});
