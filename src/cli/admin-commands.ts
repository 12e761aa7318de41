import { InvalidArgumentError, type Command } from 'commander';
import { ROLES, type Role } from '../domain/accounts/user.ts';
import { toPublicUser } from '../http/public-user.ts';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../domain/audit/audit-log.ts';
import type { ClientInfo } from '../domain/client-info.ts';
import type { Services } from '../services.ts';

/** Runs `work` with services on the configured store, and closes the store afterwards. */
export type WithServices = <T>(work: (services: Services) => Promise<T>) => Promise<T>;

// Audit entries of CLI changes: no actor (whoever has shell access), marked by the agent.
const CLI_CLIENT: ClientInfo = { ip: null, userAgent: 'gatehouse-cli' };

function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of: ${ROLES.join(', ')}`);
  }
  return value as Role;
}

function parseTime(value: string): Date {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new InvalidArgumentError('expected an ISO 8601 time');
  return new Date(time);
}

function parsePositive(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`expected an integer from 1 to ${max}`);
    }
    return n;
  };
}

function printJson(value: unknown): void {
  console.log(JSON.stringify(value));
}

/** The `users` command group, created if main.ts has not made it yet. */
function usersCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'users') ??
    program.command('users').description('manage user accounts')
  );
}

/**
 * `gatehouse users set-role|disable|enable|delete|reset-mfa USER` and `gatehouse audit list|verify`
 * (API.md 3, 6). USER is an id or an email. They go through the same domain functions as the admin API:
 * the last active admin stays (exit 1 with the reason) and every change is audited.
 */
export function registerAdminCommands(program: Command, withServices: WithServices): void {
  const users = usersCommand(program);
  const change = (ref: string, changes: { role?: Role; disabled?: boolean }) =>
    withServices(async (services) => {
      const user = await services.findUser(ref);
      const changed = await services.changeUserAccess({
        actorId: null,
        client: CLI_CLIENT,
        userId: user.id,
        changes,
      });
      printJson(toPublicUser(changed));
    });

  users
    .command('set-role')
    .description('make a user an admin, or an admin a user')
    .argument('<user>', 'id or email')
    .argument('<role>', ROLES.join(' | '), parseRole)
    .action((ref: string, role: Role) => change(ref, { role }));

  users
    .command('disable')
    .description('disable a user and end all of its sessions')
    .argument('<user>', 'id or email')
    .action((ref: string) => change(ref, { disabled: true }));

  users
    .command('enable')
    .description('let a disabled user log in again')
    .argument('<user>', 'id or email')
    .action((ref: string) => change(ref, { disabled: false }));

  users
    .command('delete')
    .description('delete a user and all of its sessions (its audit entries stay)')
    .argument('<user>', 'id or email')
    .action((ref: string) =>
      withServices(async (services) => {
        const user = await services.findUser(ref);
        await services.deleteUser({ actorId: null, client: CLI_CLIENT, userId: user.id });
        printJson({ deleted: user.id, email: user.email });
      }),
    );

  // API.md 9: the way back in for a user (the last admin included) who lost their second factor.
  users
    .command('reset-mfa')
    .description("remove a user's second factors (TOTP, recovery codes); audited")
    .argument('<user>', 'id or email')
    .action((ref: string) =>
      withServices(async (services) => {
        const user = await services.findUser(ref);
        await services.resetUserMfa({ actorId: null, client: CLI_CLIENT, userId: user.id });
        printJson({ mfa_reset: user.id, email: user.email });
      }),
    );

  const audit = program.command('audit').description('read and verify the audit log');
  audit
    .command('verify')
    .description("check the audit log's hash chain; prints the head hash to record elsewhere")
    .action(() =>
      withServices(async (services) => {
        const report = await services.verifyAuditChain();
        if (report.ok) {
          const legacy =
            report.legacy > 0 ? ` (${report.legacy} older entries predate the chain)` : '';
          console.log(
            `${report.verified} entries verified${legacy}, head ${report.headHash} (seq ${report.headSeq})`,
          );
          return;
        }
        // ASVS V7.3.3 (log integrity): a broken chain is a failure for scripts and monitors.
        console.error(`error: audit chain broken: ${report.broken.message}`);
        console.error(`${report.verified} entries verified before it`);
        process.exitCode = 1;
      }),
    );

  audit
    .command('list')
    .description('audit entries, newest first, one JSON object per line')
    .option('--user <user>', 'entries where this user (id or email) is the subject or the actor')
    .option('--type <type>', AUDIT_EVENT_TYPES.join(' | '), (value: string) => {
      if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(value)) {
        throw new InvalidArgumentError(`expected one of: ${AUDIT_EVENT_TYPES.join(', ')}`);
      }
      return value as AuditEventType;
    })
    .option('--since <time>', 'ISO 8601; entries at or after it', parseTime)
    .option('--until <time>', 'ISO 8601; entries before it', parseTime)
    .option('--limit <n>', 'at most this many entries (default 50)', parsePositive(100_000), 50)
    .action(
      (options: {
        user?: string;
        type?: AuditEventType;
        since?: Date;
        until?: Date;
        limit: number;
      }) =>
        withServices(async (services) => {
          const userId =
            options.user === undefined ? undefined : (await services.findUser(options.user)).id;
          let beforeId: number | undefined;
          let remaining = options.limit;
          while (remaining > 0) {
            const page = await services.listAuditEvents(
              { userId, type: options.type, since: options.since, until: options.until },
              { limit: Math.min(remaining, 500), beforeId },
            );
            for (const entry of page.items) printJson(entry);
            remaining -= page.items.length;
            if (page.nextBeforeId === undefined) break;
            beforeId = page.nextBeforeId;
          }
        }),
    );
}
