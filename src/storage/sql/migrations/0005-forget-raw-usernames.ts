import type { Kysely } from 'kysely';
import { isEmailAddress } from '../../../domain/email-address.ts';
import { NOT_AN_EMAIL } from '../../../domain/audit/username-for-audit.ts';

const BATCH = 1000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time, not typed against today's schema
export async function up(db: Kysely<any>): Promise<void> {
  // ASVS 7.1.1 / CWE-532: usernames typed at login may be passwords. The throttle's keys were
  // plain SHA-256 of them (crackable offline); they are keyed hashes from now on, so the old
  // rows only count attempts under keys nobody looks up any more: forget them.
  await db.deleteFrom('login_throttles').execute();

  // Failed logins recorded whatever was typed as the username: keep only email addresses.
  for (let afterId = 0; ;) {
    const rows = (await db
      .selectFrom('audit_events')
      .select(['id', 'email'])
      .where('type', '=', 'login.failed')
      .where('email', 'is not', null)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(BATCH)
      .execute()) as { id: number | string; email: string }[];
    const last = rows.at(-1);
    if (!last) return;
    const scrub = rows
      .filter((row) => row.email !== NOT_AN_EMAIL && !isEmailAddress(row.email))
      .map((row) => row.id);
    if (scrub.length > 0) {
      await db
        .updateTable('audit_events')
        .set({ email: NOT_AN_EMAIL })
        .where('id', 'in', scrub)
        .execute();
    }
    afterId = Number(last.id);
  }
}
