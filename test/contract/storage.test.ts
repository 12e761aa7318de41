import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { apiClientRepositoryContract } from './api-client-repository.contract.ts';
import { mailTokenRepositoryContract } from './mail-token-repository.contract.ts';
import { sessionRepositoryContract } from './session-repository.contract.ts';
import { settingsRepositoryContract } from './settings-repository.contract.ts';
import { signingKeyRepositoryContract } from './signing-key-repository.contract.ts';
import { userRepositoryContract } from './user-repository.contract.ts';
import { userTransferContract } from './user-transfer.contract.ts';

// One suite per port, written once, run unchanged against every store (STYLE.md).
for (const backend of STORAGE_BACKENDS) {
  const open = async (): Promise<Storage> => {
    const storage = await openStorage(await backend.freshUrl());
    await storage.migrate();
    return storage;
  };

  describe(`storage on ${backend.name}`, { skip: backend.skip }, () => {
    it('migrates idempotently and answers ping', async () => {
      const storage = await openStorage(await backend.freshUrl());
      try {
        assert.ok((await storage.migrate()).length >= 4);
        assert.deepEqual(await storage.migrate(), []);
        await storage.ping();
      } finally {
        await storage.close();
      }
    });

    it('keeps every commit through a power loss (README "Durability")', async () => {
      const storage = await openStorage(await backend.freshUrl());
      try {
        const settings = await storage.durability();
        if (backend.name === 'sqlite') {
          assert.equal(settings.synchronous, 'full');
        } else {
          // Postgres' own defaults, which Gatehouse relies on and does not lower.
          assert.equal(settings.fsync, 'on');
          assert.notEqual(settings.synchronous_commit, 'off');
        }
      } finally {
        await storage.close();
      }
    });
  });
  describe(`UserRepository contract (${backend.name})`, { skip: backend.skip }, () =>
    userRepositoryContract(open),
  );
  describe(`SessionRepository contract (${backend.name})`, { skip: backend.skip }, () =>
    sessionRepositoryContract(open),
  );
  describe(`MailTokenRepository contract (${backend.name})`, { skip: backend.skip }, () =>
    mailTokenRepositoryContract(open),
  );
  describe(`SettingsRepository contract (${backend.name})`, { skip: backend.skip }, () =>
    settingsRepositoryContract(open),
  );
  describe(`ApiClientRepository contract (${backend.name})`, { skip: backend.skip }, () =>
    apiClientRepositoryContract(open),
  );
  describe(`SigningKeyRepository contract (${backend.name})`, { skip: backend.skip }, () =>
    signingKeyRepositoryContract(open),
  );
  describe(`UserTransferRepository contract (${backend.name})`, { skip: backend.skip }, () =>
    userTransferContract(open),
  );
}
