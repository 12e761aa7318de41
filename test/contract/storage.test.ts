import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStorage, type Storage } from '../../src/storage/open-storage.ts';
import { REDIS_BACKEND, STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { apiClientRepositoryContract } from './api-client-repository.contract.ts';
import { auditRepositoryContract } from './audit-repository.contract.ts';
import { loginThrottleRepositoryContract } from './login-throttle-repository.contract.ts';
import { mailOutboxContract } from './mail-outbox.contract.ts';
import { mailTokenRepositoryContract } from './mail-token-repository.contract.ts';
import { mfaRepositoryContract } from './mfa-repository.contract.ts';
import { passkeyRepositoryContract } from './passkey-repository.contract.ts';
import { sessionRepositoryContract } from './session-repository.contract.ts';
import { settingsRepositoryContract } from './settings-repository.contract.ts';
import { signingKeyRepositoryContract } from './signing-key-repository.contract.ts';
import { userRepositoryContract } from './user-repository.contract.ts';
import { userTransferContract } from './user-transfer.contract.ts';

// THE runner of the contract suites: one suite per port, written once, run unchanged against
// every store (STYLE.md): SQLite always, Postgres and Redis when their test URLs are set. A new
// port's suite is one line here. `open` gives a freshly migrated, empty store per call.
const CONTRACTS: ReadonlyArray<readonly [port: string, (open: () => Promise<Storage>) => void]> = [
  ['UserRepository', userRepositoryContract],
  ['SessionRepository', sessionRepositoryContract],
  ['MailTokenRepository', mailTokenRepositoryContract],
  ['SettingsRepository', settingsRepositoryContract],
  ['ApiClientRepository', apiClientRepositoryContract],
  ['SigningKeyRepository', signingKeyRepositoryContract],
  ['UserTransferRepository', userTransferContract],
  ['AuditLog', auditRepositoryContract],
  ['LoginThrottleRepository', loginThrottleRepositoryContract],
  ['MailOutbox', mailOutboxContract],
  ['MfaRepository', mfaRepositoryContract],
  ['PasskeyRepository', passkeyRepositoryContract],
];

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

  for (const [port, contract] of CONTRACTS) {
    describe(`${port} contract (${backend.name})`, { skip: backend.skip }, () => contract(open));
  }
}

// Redis holds no port of its own (only the rate-limit counters, which test/http/rate-limit.test.ts
// checks across instances); what Storage promises of it is the connection: it answers and closes.
describe(`RedisConnection contract (${REDIS_BACKEND.name})`, { skip: REDIS_BACKEND.skip }, () => {
  it('connects beside the SQL store, answers ping and closes with it', async () => {
    const errors: Error[] = [];
    const storage = await openStorage('sqlite::memory:', {
      redis: { url: REDIS_BACKEND.url, onUnavailable: (error) => errors.push(error) },
    });
    try {
      assert.ok(storage.redis, 'Storage.redis is set when a Redis URL is given');
      await storage.redis.ping();
      assert.deepEqual(errors, []);
    } finally {
      await storage.close();
    }
    // No offline queue (open-redis.ts): a closed connection refuses at once, it never hangs.
    await assert.rejects(storage.redis.ping());
  });
});
