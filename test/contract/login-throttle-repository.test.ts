import { describe } from 'node:test';
import { openStorage } from '../../src/storage/open-storage.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { loginThrottleRepositoryContract } from './login-throttle-repository.contract.ts';

for (const backend of STORAGE_BACKENDS) {
  describe(`LoginThrottleRepository contract (${backend.name})`, { skip: backend.skip }, () => {
    loginThrottleRepositoryContract(async () => {
      const storage = await openStorage(await backend.freshUrl());
      await storage.migrate();
      return storage;
    });
  });
}
