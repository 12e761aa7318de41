import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Storage } from '../../src/storage/open-storage.ts';

const T0 = new Date('2030-06-01T12:00:00.000Z');

/** The ApiClientRepository port's contract, run against every store (storage.test.ts). */
export function apiClientRepositoryContract(open: () => Promise<Storage>): void {
  let storage: Storage;
  before(async () => {
    storage = await open();
  });
  after(() => storage?.close());

  const newClient = (clientId: string, name = `client ${clientId}`) => ({
    clientId,
    name,
    secretHash: `hash-of-${clientId}`,
    createdAt: T0,
  });

  it('creates a client with an id and finds it, with its secret hash, by client_id', async () => {
    const created = await storage.apiClients.create(newClient('gh_one', 'Billing API'));
    assert.ok(Number.isSafeInteger(created.id) && created.id > 0);
    assert.deepEqual(created, {
      id: created.id,
      clientId: 'gh_one',
      name: 'Billing API',
      createdAt: T0,
    });
    assert.deepEqual(await storage.apiClients.findByClientId('gh_one'), {
      client: created,
      secretHash: 'hash-of-gh_one',
    });
    assert.equal(await storage.apiClients.findByClientId('gh_none'), undefined);
    // client_id is matched exactly, not case-insensitively.
    assert.equal(await storage.apiClients.findByClientId('GH_ONE'), undefined);
  });

  it('refuses a second client with the same client_id', async () => {
    await storage.apiClients.create(newClient('gh_dup'));
    await assert.rejects(storage.apiClients.create(newClient('gh_dup')));
  });

  it('lists clients oldest first, without secret hashes', async () => {
    const a = await storage.apiClients.create(newClient('gh_list_a'));
    const b = await storage.apiClients.create(newClient('gh_list_b'));
    const listed = await storage.apiClients.list();
    const ids = listed.map((c) => c.id);
    assert.ok(ids.indexOf(a.id) < ids.indexOf(b.id));
    assert.deepEqual(
      ids,
      [...ids].sort((x, y) => x - y),
    );
    for (const client of listed)
      assert.deepEqual(Object.keys(client).sort(), ['clientId', 'createdAt', 'id', 'name']);
  });

  it('deletes a client once: of 5 concurrent deletes exactly one gets it back', async () => {
    const client = await storage.apiClients.create(newClient('gh_del'));
    const results = await Promise.all(
      Array.from({ length: 5 }, () => storage.apiClients.delete(client.id)),
    );
    assert.deepEqual(
      results.filter((r) => r !== undefined),
      [client],
    );
    assert.equal(await storage.apiClients.findByClientId('gh_del'), undefined);
    assert.equal(await storage.apiClients.delete(client.id), undefined);
    assert.ok(!(await storage.apiClients.list()).some((c) => c.id === client.id));
  });
}
