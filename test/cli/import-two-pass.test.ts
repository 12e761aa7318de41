import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  importUsers,
  ImportSourceChangedError,
  type ImportSource,
  type SourceRow,
} from '../../src/domain/accounts/import-users.ts';
import type { UserTransferRepository } from '../../src/domain/accounts/user-transfer.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { IMPORTED_BCRYPT_HASH, IMPORT_OPTIONS } from '../support/import-fixtures.ts';

function row(i: number, prefix = 'pass'): SourceRow {
  return {
    line: i + 1,
    fields: { email: `${prefix}${i}@example.com`, password_hash: IMPORTED_BCRYPT_HASH },
  };
}

/**
 * A re-readable source of `count` rows that records how often it was read and how many rows
 * the current read has handed out; `secondRead` may replace rows on later reads.
 */
class CountingSource implements ImportSource {
  reads = 0;
  handedOut = 0;
  constructor(
    readonly count: number,
    readonly secondRead: (i: number) => SourceRow = (i) => row(i),
  ) {}
  async *read(): AsyncGenerator<SourceRow> {
    this.reads++;
    this.handedOut = 0;
    const pass = this.reads;
    for (let i = 0; i < this.count; i++) {
      this.handedOut++;
      yield pass === 1 ? row(i) : this.secondRead(i);
    }
  }
}

/** The real store's transfer, noting how many rows the source had handed out at each insert. */
function watching(transfer: UserTransferRepository, source: CountingSource, seen: number[]) {
  return {
    existingEmails: (emails: readonly string[]) => transfer.existingEmails(emails),
    exportAll: (pageSize: number) => transfer.exportAll(pageSize),
    insertBatch: (users: Parameters<UserTransferRepository['insertBatch']>[0], now: Date) => {
      seen.push(source.handedOut);
      return transfer.insertBatch(users, now);
    },
  } satisfies UserTransferRepository;
}

async function count(storage: Storage): Promise<number> {
  let n = 0;
  for await (const _ of storage.userTransfer.exportAll(100)) n++;
  return n;
}

for (const backend of STORAGE_BACKENDS) {
  describe(`an import in two passes (${backend.name})`, { skip: backend.skip }, () => {
    let storage: Storage;
    const clock = new ManualClock();
    before(async () => {
      storage = await openStorage(await backend.freshUrl());
      await storage.migrate();
    });
    beforeEach(async () => {
      // Each test starts from an empty users table: the import's counts are then exact.
      for await (const user of storage.userTransfer.exportAll(100)) {
        await storage.users.delete(user.id);
      }
    });
    after(() => storage?.close());

    it('checks every row in a first read, then reads the source again and inserts as it reads', async () => {
      const source = new CountingSource(45);
      const seen: number[] = [];
      const report = await importUsers(
        { transfer: watching(storage.userTransfer, source, seen), clock },
        source,
        IMPORT_OPTIONS,
      );
      assert.equal(source.reads, 2);
      assert.equal(report.inserted, 45);
      assert.equal(await count(storage), 45);
      // Each batch is inserted once its rows are read, not after the whole source: the
      // import never holds more than about two batches of rows.
      assert.deepEqual(seen.length, 5);
      seen.forEach((handedOut, batch) =>
        assert.ok(
          handedOut <= (batch + 2) * IMPORT_OPTIONS.batchSize,
          `batch ${batch}: ${handedOut}`,
        ),
      );
    });

    it('reads the source once when nothing is to be written: a dry run, a bad row, or everyone present', async () => {
      const dry = new CountingSource(15);
      await importUsers({ transfer: storage.userTransfer, clock }, dry, {
        ...IMPORT_OPTIONS,
        dryRun: true,
      });
      assert.equal(dry.reads, 1);
      const bad = new CountingSource(15);
      const badFirst: ImportSource = {
        read: async function* () {
          yield { line: 1, error: 'not a JSON object' };
          yield* bad.read();
        },
      };
      const refused = await importUsers(
        { transfer: storage.userTransfer, clock },
        badFirst,
        IMPORT_OPTIONS,
      );
      assert.equal(refused.written, false);
      assert.equal(bad.reads, 1);
      await importUsers(
        { transfer: storage.userTransfer, clock },
        new CountingSource(15),
        IMPORT_OPTIONS,
      );
      const again = new CountingSource(15);
      const rerun = await importUsers(
        { transfer: storage.userTransfer, clock },
        again,
        IMPORT_OPTIONS,
      );
      assert.equal(rerun.existing, 15);
      assert.equal(again.reads, 1);
    });

    it('finds a duplicate in any case, naming the first line, without holding the rows', async () => {
      const source: ImportSource = {
        read: async function* () {
          yield row(0);
          yield row(1);
          yield {
            line: 3,
            fields: { email: 'PASS0@Example.COM', password_hash: IMPORTED_BCRYPT_HASH },
          };
        },
      };
      const report = await importUsers(
        { transfer: storage.userTransfer, clock },
        source,
        IMPORT_OPTIONS,
      );
      assert.deepEqual(report.problems, [
        { line: 3, reason: 'duplicate email: the same address (in any case) as line 1' },
      ]);
      assert.equal(report.written, false);
      assert.equal(await count(storage), 0);
    });

    it('stops before writing anything when the first rows changed between the passes', async () => {
      const source = new CountingSource(45, (i) => (i === 3 ? row(i, 'other') : row(i)));
      await assert.rejects(
        importUsers({ transfer: storage.userTransfer, clock }, source, IMPORT_OPTIONS),
        (error: unknown) =>
          error instanceof ImportSourceChangedError &&
          error.inserted === 0 &&
          /changed since it was checked/.test(error.message),
      );
      assert.equal(await count(storage), 0);
    });

    it('stops at the first changed batch, keeping only whole batches as checked, when a row changes later', async () => {
      const source = new CountingSource(45, (i) =>
        i === 27 ? { line: 28, error: 'not a JSON object' } : row(i),
      );
      await assert.rejects(
        importUsers({ transfer: storage.userTransfer, clock }, source, IMPORT_OPTIONS),
        (error: unknown) => error instanceof ImportSourceChangedError && error.inserted === 20,
      );
      assert.equal(await count(storage), 20);
    });

    it('stops when the source has more or fewer rows the second time', async () => {
      for (const second of [44, 46]) {
        const source = new CountingSource(45);
        const shorter: ImportSource = {
          read: async function* () {
            let i = 0;
            for await (const r of source.read()) if (source.reads === 1 || i++ < second) yield r;
            for (let j = 45; source.reads > 1 && j < second; j++) yield row(j);
          },
        };
        await assert.rejects(
          importUsers({ transfer: storage.userTransfer, clock }, shorter, IMPORT_OPTIONS),
          ImportSourceChangedError,
        );
        assert.equal(await count(storage), 40, `${second} rows the second time`);
        for await (const user of storage.userTransfer.exportAll(100)) {
          await storage.users.delete(user.id);
        }
      }
    });
  });
}
