import { describe } from 'node:test';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { passkeyRepositoryContract } from './passkey-repository.contract.ts';

for (const backend of STORAGE_BACKENDS) {
  const open = async (): Promise<Storage> => {
    const storage = await openStorage(await backend.freshUrl());
    await storage.migrate();
    return storage;
  };
  describe(`PasskeyRepository contract (${backend.name})`, { skip: backend.skip }, () =>
    passkeyRepositoryContract(open),
  );
}
