import { describe } from 'node:test';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { mfaRepositoryContract } from './mfa-repository.contract.ts';

for (const backend of STORAGE_BACKENDS) {
  const open = async (): Promise<Storage> => {
    const storage = await openStorage(await backend.freshUrl());
    await storage.migrate();
    return storage;
  };
  describe(`MfaRepository contract (${backend.name})`, { skip: backend.skip }, () =>
    mfaRepositoryContract(open),
  );
}
