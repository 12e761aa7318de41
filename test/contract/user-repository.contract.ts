import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { NewUser } from '../../src/domain/accounts/user-repository.ts';
import { isGatehouseError } from '../../src/domain/errors.ts';
import type { Storage } from '../../src/storage/open-storage.ts';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const OLD = '$argon2id$old';
let counter = 0;

function newUser(overrides: Partial<NewUser> = {}): NewUser {
  counter += 1;
  return {
    email: `u${counter}@example.com`,
    passwordHash: `$argon2id$fake-${counter}`,
    role: 'user',
    createdAt: T0,
    ...overrides,
  };
}

/** The UserRepository port's contract, run against every store (storage.test.ts). */
export function userRepositoryContract(open: () => Promise<Storage>): void {
  let storage: Storage;
  before(async () => {
    storage = await open();
  });
  after(() => storage?.close());

  it('creates a user with an id, the email as given, the role and no disabled flag', async () => {
    const user = await storage.users.create(
      newUser({ email: 'Mixed.Case@Example.com', role: 'admin' }),
    );
    assert.ok(Number.isSafeInteger(user.id) && user.id > 0);
    assert.equal(user.email, 'Mixed.Case@Example.com');
    assert.equal(user.role, 'admin');
    assert.equal(user.disabled, false);
    assert.equal(user.createdAt.toISOString(), T0.toISOString());
    assert.deepEqual(await storage.users.findById(user.id), user);
  });

  it('finds a user for login by normalised email, with the hash', async () => {
    const created = await storage.users.create(
      newUser({ email: 'Login.Me@Example.com', passwordHash: '$argon2id$x' }),
    );
    const found = await storage.users.findByEmailForLogin('login.me@example.com');
    assert.equal(found?.id, created.id);
    assert.equal(found?.passwordHash, '$argon2id$x');
    assert.equal(
      await storage.users.findByEmailForLogin('Login.Me@Example.com'),
      undefined,
      'expects the normalised form',
    );
    assert.equal(await storage.users.findById(999_999), undefined);
  });

  it('finds a user by normalised email without the hash, for lookups that are not logins', async () => {
    const created = await storage.users.create(newUser({ email: 'Look.Up@Example.com' }));
    const found = await storage.users.findByEmail('look.up@example.com');
    assert.deepEqual(found, created);
    assert.equal(found && 'passwordHash' in found, false, 'carries no hash');
    assert.equal(await storage.users.findByEmail('Look.Up@Example.com'), undefined);
    assert.equal(await storage.users.findByEmail('nobody@example.com'), undefined);
  });

  it('finds a user by id with the current hash, in one read', async () => {
    const created = await storage.users.create(newUser({ passwordHash: OLD, role: 'admin' }));
    assert.deepEqual(await storage.users.findCredentialsById(created.id), {
      ...created,
      passwordHash: OLD,
    });
    assert.equal(await storage.users.updatePasswordHash(created.id, '$argon2id$next', OLD), true);
    assert.equal(
      (await storage.users.findCredentialsById(created.id))?.passwordHash,
      '$argon2id$next',
    );
    await storage.users.changeAccess(created.id, { disabled: true }, T0);
    assert.equal((await storage.users.findCredentialsById(created.id))?.disabled, true);
    assert.equal(await storage.users.findCredentialsById(999_999), undefined);
  });

  it('refuses the same email in another letter case with email_taken', async () => {
    await storage.users.create(newUser({ email: 'taken@example.com' }));
    await assert.rejects(storage.users.create(newUser({ email: 'TAKEN@example.com' })), (error) =>
      isGatehouseError(error, 'email_taken'),
    );
  });

  it('lets exactly one of 20 concurrent creates of one address succeed', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        storage.users.create(newUser({ email: i % 2 ? 'race@example.com' : 'RACE@example.com' })),
      ),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const failures = results.filter((r) => r.status === 'rejected');
    assert.equal(failures.length, 19);
    for (const failure of failures) assert.ok(isGatehouseError(failure.reason, 'email_taken'));
  });

  it('replaces a password hash, and says false for an unknown user', async () => {
    const user = await storage.users.create(newUser({ email: 'rehash@example.com' }));
    assert.equal(await storage.users.updatePasswordHash(user.id, '$argon2id$new', OLD), false);
    const stored = (await storage.users.findByEmailForLogin('rehash@example.com'))?.passwordHash;
    assert.ok(stored);
    assert.equal(await storage.users.updatePasswordHash(user.id, '$argon2id$new', stored), true);
    assert.equal(
      (await storage.users.findByEmailForLogin('rehash@example.com'))?.passwordHash,
      '$argon2id$new',
    );
    assert.equal(await storage.users.updatePasswordHash(999_999, '$argon2id$new', OLD), false);
  });

  it('replaces a hash only over the one verified: of 10 concurrent callers exactly one does', async () => {
    const user = await storage.users.create(newUser({ passwordHash: OLD }));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        storage.users.updatePasswordHash(user.id, `$argon2id$new-${i}`, OLD),
      ),
    );
    assert.equal(results.filter(Boolean).length, 1);
    const winner = results.indexOf(true);
    assert.equal(
      (await storage.users.findByEmailForLogin(user.email))?.passwordHash,
      `$argon2id$new-${winner}`,
    );
  });

  it('lists by id with limit, cursor and a literal email prefix', async () => {
    const a = await storage.users.create(newUser({ email: 'list_a%1@example.com' }));
    const b = await storage.users.create(newUser({ email: 'list_a%2@example.com' }));
    await storage.users.create(newUser({ email: 'listxa12@example.com' }));
    const page = await storage.users.list({ limit: 10, emailPrefix: 'LIST_A%' });
    // `_` and `%` match themselves only: listxa12 is not a match.
    assert.deepEqual(
      page.map((u) => u.id),
      [a.id, b.id],
    );
    assert.deepEqual(
      (await storage.users.list({ limit: 1, emailPrefix: 'list_a%' })).map((u) => u.id),
      [a.id],
    );
    assert.deepEqual(
      (await storage.users.list({ limit: 10, afterId: a.id, emailPrefix: 'list_a%' })).map(
        (u) => u.id,
      ),
      [b.id],
    );
    const all = await storage.users.list({ limit: 100 });
    assert.ok(all.length >= 3);
    assert.deepEqual(
      all.map((u) => u.id),
      [...all.map((u) => u.id)].sort((x, y) => x - y),
    );
  });

  it('treats `%`, `_` and `\\` in an email prefix as themselves, not as patterns', async () => {
    const percent = await storage.users.create(newUser({ email: 'pct%x@example.com' }));
    await storage.users.create(newUser({ email: 'pctyx@example.com' }));
    const underscore = await storage.users.create(newUser({ email: 'und_x@example.com' }));
    await storage.users.create(newUser({ email: 'undyx@example.com' }));
    const backslash = await storage.users.create(newUser({ email: 'esc\\b@example.com' }));
    await storage.users.create(newUser({ email: 'escb@example.com' }));
    const ids = async (emailPrefix: string) =>
      (await storage.users.list({ limit: 10, emailPrefix })).map((u) => u.id);
    assert.deepEqual(await ids('pct%x'), [percent.id]);
    assert.deepEqual(await ids('und_x'), [underscore.id]);
    assert.deepEqual(await ids('esc\\b'), [backslash.id]);
    assert.deepEqual(await ids('%'), []);
  });

  it('counts the users an email prefix lists, with the same literal matching, and everyone', async () => {
    await storage.users.create(newUser({ email: 'cnt_a1@example.com' }));
    await storage.users.create(newUser({ email: 'CNT_A2@example.com' }));
    await storage.users.create(newUser({ email: 'cntxa3@example.com' }));
    assert.equal(await storage.users.count({ emailPrefix: 'cnt_a' }), 2);
    assert.equal(await storage.users.count({ emailPrefix: 'CNT' }), 3);
    assert.equal(await storage.users.count({ emailPrefix: 'cnt%' }), 0);
    const everyone = await storage.users.list({ limit: 100 });
    assert.equal(await storage.users.count({}), everyone.length);
  });

  it('treats ids beyond any stored id as unknown rather than failing', async () => {
    for (const id of [999_999, 2 ** 31, 2 ** 40, -(2 ** 40)]) {
      assert.equal(await storage.users.findById(id), undefined);
      assert.equal(await storage.users.findCredentialsById(id), undefined);
      assert.equal(await storage.users.updatePasswordHash(id, '$argon2id$new', OLD), false);
      assert.deepEqual(await storage.users.changeAccess(id, { disabled: true }, T0), {
        outcome: 'not_found',
      });
      assert.deepEqual(await storage.users.delete(id), { outcome: 'not_found' });
    }
    assert.deepEqual(await storage.users.list({ limit: 10, afterId: 2 ** 40 }), []);
  });

  it('counts only active admins, and keeps the last one under concurrent demotions', async () => {
    const before = await storage.users.countAdmins();
    const x = await storage.users.create(newUser({ role: 'admin' }));
    await storage.users.create(newUser({ role: 'admin' }));
    await storage.users.create(newUser({ role: 'user' }));
    assert.equal(await storage.users.countAdmins(), before + 2);
    const disabled = await storage.users.changeAccess(x.id, { disabled: true }, T0);
    assert.equal(disabled.outcome, 'changed');
    assert.equal(await storage.users.countAdmins(), before + 1);
    assert.equal((await storage.users.findById(x.id))?.disabled, true);
    assert.equal(
      (await storage.users.changeAccess(x.id, { disabled: false }, T0)).outcome,
      'changed',
    );

    // Demote every admin at once: at least one must remain.
    const admins = (await storage.users.list({ limit: 100 })).filter(
      (u) => u.role === 'admin' && !u.disabled,
    );
    const outcomes = await Promise.all(
      admins.map((u) => storage.users.changeAccess(u.id, { role: 'user' }, T0)),
    );
    assert.ok(outcomes.some((o) => o.outcome === 'last_admin'));
    assert.equal(await storage.users.countAdmins(), 1);
    assert.deepEqual(await storage.users.delete(999_999), { outcome: 'not_found' });
  });
}
