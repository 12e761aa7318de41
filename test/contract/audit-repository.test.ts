import { describe } from 'node:test';
import { openStorage } from '../../src/storage/open-storage.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { auditRepositoryContract } from './audit-repository.contract.ts';

for (const backend of STORAGE_BACKENDS) {
  describe(`AuditLog contract (${backend.name})`, { skip: backend.skip }, () => {
    auditRepositoryContract(async () => {
      const storage = await openStorage(await backend.freshUrl());
      await storage.migrate();
      return storage;
    });
  });
}
