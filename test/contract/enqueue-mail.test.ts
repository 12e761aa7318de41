import assert from 'node:assert/strict';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { after, before, describe, it } from 'node:test';
import type { OutgoingMail } from '../../src/domain/mail/outgoing-mail.ts';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import type { Database } from '../../src/storage/sql/database.ts';
import { enqueueMail } from '../../src/storage/sql/enqueue-mail.ts';
import { sharedStoreUrl } from '../support/raw-sql.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';

/** A Kysely of our own on the store, as another repository holding a transaction would have. */
function kyselyOn(url: string): Kysely<Database> {
  if (url.startsWith('sqlite:')) {
    return new Kysely<Database>({
      dialect: new SqliteDialect({ database: new SqliteDatabase(url.slice('sqlite:'.length)) }),
    });
  }
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
  });
}

const MAIL: OutgoingMail = {
  to: 'ann@example.com',
  subject: 'Reset your password',
  text: 'https://id.example.com/reset#token=abc',
  html: '<p>reset</p>',
  kind: 'password_reset',
};
const NOW = new Date('2030-01-01T00:00:00Z');

for (const backend of STORAGE_BACKENDS) {
  describe(
    `enqueueMail in another change's transaction (${backend.name})`,
    { skip: backend.skip },
    () => {
      let storage: Storage;
      let db: Kysely<Database>;
      before(async () => {
        const url = await sharedStoreUrl(backend);
        storage = await openStorage(url);
        await storage.migrate();
        db = kyselyOn(url);
      });
      after(async () => {
        await db?.destroy();
        await storage?.close();
      });

      it('commits the message with the change', async () => {
        const id = await db.transaction().execute(async (trx) => {
          await trx.insertInto('settings').values({ key: 'k1', value: 'v' }).execute();
          return enqueueMail(trx, MAIL, NOW);
        });
        const stored = await storage.mailOutbox.get(id);
        assert.equal(stored?.status, 'queued');
        assert.equal(stored?.text, MAIL.text);
      });

      it('rolls the message back with the change, so no mail goes out for a change that failed', async () => {
        const before = (await storage.mailOutbox.countByStatus()).queued;
        await assert.rejects(
          db.transaction().execute(async (trx) => {
            await enqueueMail(trx, { ...MAIL, to: 'rolled-back@example.com' }, NOW);
            await trx.insertInto('settings').values({ key: 'k1', value: 'duplicate' }).execute();
          }),
        );
        assert.equal((await storage.mailOutbox.countByStatus()).queued, before);
        assert.deepEqual(
          await storage.mailOutbox.list({ to: 'rolled-back@example.com', limit: 5 }),
          [],
        );
      });
    },
  );
}
