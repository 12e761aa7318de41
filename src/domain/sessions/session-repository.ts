import type { User } from '../accounts/user.ts';
import type { Session } from './session.ts';

/** Storage port for login sessions. SQLite and Postgres both implement it (test/contract). */
export interface SessionRepository {
  create(session: Session): Promise<void>;

  /**
   * The session's user when the session exists, belongs to `userId`, is neither revoked nor
   * expired at `now`, and the user is not disabled; otherwise undefined. One indexed read:
   * this runs on every authenticated request (API.md 2: logout takes effect at once).
   */
  findActiveUser(sessionId: string, userId: number, now: Date): Promise<User | undefined>;
}
