import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runGatehouse } from '../support/cli-run.ts';
import { sharedStoreUrl } from '../support/raw-sql.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { IMPORTED_BCRYPT_HASH } from '../support/import-fixtures.ts';

const line = (email: string) =>
  `${JSON.stringify({ email, password_hash: IMPORTED_BCRYPT_HASH })}\n`;

for (const backend of STORAGE_BACKENDS) {
  describe(`gatehouse import - (standard input) on ${backend.name}`, { skip: backend.skip }, () => {
    it('imports from standard input, read once and kept for the second pass, duplicates found', async () => {
      const env = { GATEHOUSE_DATABASE_URL: await sharedStoreUrl(backend) };
      assert.equal((await runGatehouse(env, ['migrate'])).code, 0);
      const input = ['a', 'b', 'c'].map((name) => line(`${name}@stdin.example.com`)).join('');
      const run = await runGatehouse(env, ['import', '-', '--batch-size', '2'], input);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^import: 3 imported, 0 already present, 0 invalid$/m);
      const twice = await runGatehouse(
        env,
        ['import', '-'],
        line('d@stdin.example.com') + line('D@STDIN.example.com'),
      );
      assert.equal(twice.code, 1);
      assert.match(twice.stderr, /^line 2: duplicate email: .* as line 1$/m);
    });
  });
}
