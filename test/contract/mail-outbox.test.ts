import { describe } from 'node:test';
import { openStorage } from '../../src/storage/open-storage.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { mailOutboxContract } from './mail-outbox.contract.ts';

for (const backend of STORAGE_BACKENDS) {
  describe(`MailOutbox contract (${backend.name})`, { skip: backend.skip }, () => {
    mailOutboxContract(async () => {
      const storage = await openStorage(await backend.freshUrl());
      await storage.migrate();
      return storage;
    });
  });
}
