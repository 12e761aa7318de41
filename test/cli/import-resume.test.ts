import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { importUsers, type SourceRow } from '../../src/domain/accounts/import-users.ts';
import type { UserTransferRepository } from '../../src/domain/accounts/user-transfer.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { IMPORTED_BCRYPT_HASH, IMPORT_OPTIONS } from '../support/import-fixtures.ts';

async function* rows(count: number): AsyncGenerator<SourceRow> {
  for (let i = 0; i < count; i++) {
    yield {
      line: i + 1,
      fields: { email: `resume${i}@example.com`, password_hash: IMPORTED_BCRYPT_HASH },
    };
  }
}

/** The real store's transfer, whose `failAt`-th batch fails after the store committed nothing. */
function failingAt(transfer: UserTransferRepository, failAt: number): UserTransferRepository {
  let batches = 0;
  return {
    existingEmails: (emails) => transfer.existingEmails(emails),
    exportAll: (pageSize) => transfer.exportAll(pageSize),
    insertBatch: (users, now) => {
      batches++;
      if (batches === failAt) return Promise.reject(new Error('connection lost'));
      return transfer.insertBatch(users, now);
    },
  };
}

async function count(storage: Storage): Promise<number> {
  let n = 0;
  for await (const _ of storage.userTransfer.exportAll(100)) n++;
  return n;
}

for (const backend of STORAGE_BACKENDS) {
  describe(`an interrupted import (${backend.name})`, { skip: backend.skip }, () => {
    let storage: Storage;
    before(async () => {
      storage = await openStorage(await backend.freshUrl());
      await storage.migrate();
    });
    after(() => storage?.close());

    it('leaves whole batches only, and running it again imports exactly the rest', async () => {
      const clock = new ManualClock();
      await assert.rejects(
        importUsers(
          { transfer: failingAt(storage.userTransfer, 3), clock },
          rows(45),
          IMPORT_OPTIONS,
        ),
        /connection lost/,
      );
      assert.equal(await count(storage), 20, 'the two batches before the failure, whole');
      const again = await importUsers(
        { transfer: storage.userTransfer, clock },
        rows(45),
        IMPORT_OPTIONS,
      );
      assert.equal(again.existing, 20);
      assert.equal(again.new, 25);
      assert.equal(again.inserted, 25);
      assert.equal(await count(storage), 45);
    });
  });
}
