import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { ImportedUser } from '../../src/domain/accounts/user-transfer.ts';
import type { Storage } from '../../src/storage/open-storage.ts';
import { IMPORTED_BCRYPT_HASH } from '../support/import-fixtures.ts';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const CREATED = new Date('2019-02-03T04:05:06.789Z');

function imported(email: string, overrides: Partial<ImportedUser> = {}): ImportedUser {
  return {
    email,
    passwordHash: IMPORTED_BCRYPT_HASH,
    role: 'user',
    disabled: false,
    emailVerified: false,
    createdAt: CREATED,
    ...overrides,
  };
}

/** The UserTransferRepository port's contract (API.md 10), run against every store. */
export function userTransferContract(open: () => Promise<Storage>): void {
  let storage: Storage;
  before(async () => {
    storage = await open();
  });
  after(() => storage?.close());

  it('inserts a batch with every field, and a re-run of it inserts nothing', async () => {
    const batch = [
      imported('Batch.One@Example.com', { role: 'admin', emailVerified: true }),
      imported('batch.two@example.com', { disabled: true }),
    ];
    assert.equal(await storage.userTransfer.insertBatch(batch, T0), 2);
    assert.equal(await storage.userTransfer.insertBatch(batch, T0), 0, 'idempotent');
    const one = await storage.users.findByEmailForLogin('batch.one@example.com');
    assert.equal(one?.email, 'Batch.One@Example.com');
    assert.equal(one?.role, 'admin');
    assert.equal(one?.emailVerified, true);
    assert.equal(one?.disabled, false);
    assert.equal(one?.passwordHash, IMPORTED_BCRYPT_HASH);
    assert.equal(one?.createdAt.toISOString(), CREATED.toISOString());
    const two = await storage.users.findByEmailForLogin('batch.two@example.com');
    assert.equal(two?.disabled, true);
  });

  it('skips an email already present in another case, and leaves that user as it was', async () => {
    const existing = await storage.users.create({
      email: 'taken@example.com',
      passwordHash: '$argon2id$existing',
      role: 'user',
      createdAt: T0,
    });
    const inserted = await storage.userTransfer.insertBatch(
      [imported('TAKEN@example.com', { role: 'admin' }), imported('fresh@example.com')],
      T0,
    );
    assert.equal(inserted, 1);
    const after = await storage.users.findByEmailForLogin('taken@example.com');
    assert.equal(after?.id, existing.id);
    assert.equal(after?.passwordHash, '$argon2id$existing');
    assert.equal(after?.role, 'user');
  });

  it('answers which normalised emails exist, past one lookup chunk', async () => {
    const emails = Array.from({ length: 2500 }, (_, i) => `lookup${i}@example.com`);
    assert.equal(
      await storage.userTransfer.insertBatch(
        emails.filter((_, i) => i % 2 === 0).map((e) => imported(e)),
        T0,
      ),
      1250,
    );
    const found = await storage.userTransfer.existingEmails([...emails, 'nobody@example.com']);
    assert.equal(found.size, 1250);
    assert.ok(found.has('lookup2498@example.com'));
    assert.ok(!found.has('lookup2499@example.com'));
  });

  it('exports every user with their hash, in id order, across pages', async () => {
    const all = [];
    for await (const user of storage.userTransfer.exportAll(7)) all.push(user);
    const listed = await storage.users.list({ limit: 100_000 });
    assert.deepEqual(
      all.map((u) => u.id),
      listed.map((u) => u.id),
    );
    assert.ok(all.every((u) => u.passwordHash.length > 0));
    assert.equal(all.find((u) => u.email === 'batch.two@example.com')?.disabled, true);
  });
}
