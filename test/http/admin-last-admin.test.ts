import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, createUser, type LoggedIn, requestAs } from '../support/client.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

const RACE_ROUNDS = 8;

for (const backend of STORAGE_BACKENDS) {
  describe(`the last active admin stays (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: await backend.freshUrl() } });
    });
    after(() => t?.close());

    const patch = (by: LoggedIn, target: LoggedIn, payload: object) =>
      t.app.inject({
        method: 'PATCH',
        url: `/users/${target.user.id}`,
        headers: bearer(by.accessToken),
        payload,
      });
    const remove = (by: LoggedIn, target: LoggedIn) =>
      requestAs(t.app, by.accessToken, 'DELETE', `/users/${target.user.id}`);

    /** Demotes every admin but `keep`, so each test starts from a known set of admins. */
    async function onlyAdmin(keep: LoggedIn): Promise<void> {
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '' : `&cursor=${cursor}`;
        const page = await requestAs(t.app, keep.accessToken, 'GET', `/users/?limit=100${query}`);
        const body = page.json() as {
          items: { id: number; role: string }[];
          next_cursor: string | null;
        };
        for (const user of body.items) {
          if (user.role === 'admin' && user.id !== keep.user.id) {
            await t.services.changeUserAccess({
              actorId: null,
              userId: user.id,
              changes: { role: 'user' },
            });
          }
        }
        cursor = body.next_cursor;
      } while (cursor !== null);
      assert.equal(await t.storage.users.countAdmins(), 1);
    }

    it('refuses to demote, disable or delete the only admin with 409, and changes nothing', async () => {
      const admin = await createUser(t, 'admin');
      await onlyAdmin(admin);
      const attempts = [
        ['demote', patch(admin, admin, { role: 'user' })],
        ['disable', patch(admin, admin, { disabled: true })],
        ['demote and disable', patch(admin, admin, { role: 'user', disabled: true })],
        ['delete', remove(admin, admin)],
      ] as const;
      for (const [what, request] of attempts) {
        const response = await request;
        assert.equal(response.statusCode, 409, what);
        assert.equal(response.json().code, 'last_admin');
        assert.match(response.json().detail, /last active admin/);
      }
      const me = await requestAs(t.app, admin.accessToken, 'GET', '/users/me');
      assert.equal(me.json().role, 'admin');
      assert.equal(me.json().disabled, false);
      // A change that keeps it an active admin is fine.
      assert.equal((await patch(admin, admin, { role: 'admin', disabled: false })).statusCode, 200);
    });

    it('lets one of two admins demote the other, then protects the one left', async () => {
      const a = await createUser(t, 'admin');
      await onlyAdmin(a);
      const b = await createUser(t, 'admin');
      assert.equal((await patch(b, a, { role: 'user' })).statusCode, 200);
      assert.equal((await patch(b, b, { role: 'user' })).statusCode, 409);
      assert.equal((await remove(b, b)).statusCode, 409);
    });

    it('does not count a disabled admin as the remaining one', async () => {
      const a = await createUser(t, 'admin');
      await onlyAdmin(a);
      const b = await createUser(t, 'admin');
      assert.equal((await patch(a, b, { disabled: true })).statusCode, 200);
      assert.equal((await patch(a, a, { role: 'user' })).statusCode, 409);
      // Disabling the disabled admin again, or demoting it, is no loss of an active admin.
      assert.equal((await patch(a, b, { role: 'user' })).statusCode, 200);
    });

    it(`leaves an admin when two admins demote each other at once (${RACE_ROUNDS} rounds)`, async () => {
      for (let round = 0; round < RACE_ROUNDS; round += 1) {
        const a = await createUser(t, 'admin');
        const b = await createUser(t, 'admin');
        await onlyAdmin(a);
        await t.services.changeUserAccess({
          actorId: null,
          userId: b.user.id,
          changes: { role: 'admin' },
        });
        const change =
          round % 3 === 0 ? { role: 'user' } : round % 3 === 1 ? { disabled: true } : undefined;
        const [ab, ba] = await Promise.all(
          change ? [patch(a, b, change), patch(b, a, change)] : [remove(a, b), remove(b, a)],
        );
        const statuses = [ab.statusCode, ba.statusCode];
        // One change wins; the other is refused: 409 (last admin) or, when the winner committed
        // before the loser's request was authorised, 403 (the loser is no longer an admin) or
        // 401 (the loser was deleted, and its sessions with it).
        assert.equal(
          statuses.filter((s) => s === 200 || s === 204).length,
          1,
          `round ${round}: ${statuses}`,
        );
        assert.ok(
          statuses.some((s) => s === 409 || s === 403 || s === 401),
          `round ${round}: ${statuses}`,
        );
        assert.equal(await t.storage.users.countAdmins(), 1, `round ${round}`);
      }
    });

    it('leaves exactly one admin when five admins demote themselves at once', async () => {
      const first = await createUser(t, 'admin');
      await onlyAdmin(first);
      const admins = [first];
      for (let i = 0; i < 4; i += 1) admins.push(await createUser(t, 'admin'));
      for (let round = 0; round < 3; round += 1) {
        const responses = await Promise.all(admins.map((a) => patch(a, a, { role: 'user' })));
        const statuses = responses.map((r) => r.statusCode).sort();
        assert.deepEqual(statuses, [200, 200, 200, 200, 409], `round ${round}`);
        assert.equal(await t.storage.users.countAdmins(), 1);
        for (const a of admins) {
          await t.services.changeUserAccess({
            actorId: null,
            userId: a.user.id,
            changes: { role: 'admin' },
          });
        }
      }
    });

    it('leaves exactly one admin when the repository is raced directly from many connections', async () => {
      const first = await createUser(t, 'admin');
      await onlyAdmin(first);
      const ids = [first.user.id];
      for (let i = 0; i < 7; i += 1) ids.push((await createUser(t, 'admin')).user.id);
      const results = await Promise.all(
        ids.map((id, i) =>
          i % 2 === 0
            ? t.storage.users.changeAccess(id, { disabled: true }, t.clock.now())
            : t.storage.users.delete(id),
        ),
      );
      assert.equal(results.filter((r) => r.outcome === 'last_admin').length, 1);
      assert.equal(await t.storage.users.countAdmins(), 1);
    });
  });
}
