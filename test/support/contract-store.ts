import { after, before } from 'node:test';
import type { User } from '../../src/domain/accounts/user.ts';
import type { NewRefreshToken } from '../../src/domain/sessions/session-repository.ts';
import type { Session } from '../../src/domain/sessions/session.ts';
import type { Storage } from '../../src/storage/open-storage.ts';

/** The instant the MFA, passkey and mail-token contracts start from. */
export const T0 = new Date('2030-07-01T12:00:00.000Z');
export const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/**
 * The first refresh token SessionRepository.create stores with `session`, as a login's grant
 * makes it (issue-tokens.ts): living as long as the session. Hashed `first-${session id}`
 * unless `hash` is given, so it is unique per session and a test can name it.
 */
export function firstRefreshToken(
  session: Session,
  hash = `first-${session.id}`,
): Omit<NewRefreshToken, 'sessionId'> {
  return { hash, createdAt: session.createdAt, expiresAt: session.expiresAt };
}

export interface ContractStore {
  /** The store under test, opened before the suite's first test. */
  readonly storage: Storage;
  /** A new account (created at T0) for one test to own. */
  newUser(): Promise<User>;
}

let n = 0;

/**
 * The setup a port's contract suite shares: opens the store with `open` before the suite and
 * closes it after. Call it inside the suite's function, like before() and after().
 */
export function contractStore(
  open: () => Promise<Storage>,
  emailPrefix: string,
  passwordHash = `$argon2id$${emailPrefix}-contract`,
): ContractStore {
  let storage: Storage | undefined;
  before(async () => {
    storage = await open();
  });
  after(() => storage?.close());
  return {
    get storage(): Storage {
      if (!storage) throw new Error('the store is opened in before()');
      return storage;
    },
    newUser() {
      n += 1;
      return this.storage.users.create({
        email: `${emailPrefix}-${n}@example.com`,
        passwordHash,
        role: 'user',
        createdAt: T0,
      });
    },
  };
}
