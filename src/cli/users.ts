import { InvalidArgumentError, Option, type Command } from 'commander';
import { ROLES, type Role, type User } from '../domain/accounts/user.ts';
import { toPublicUser } from '../http/public-user.ts';
import type { ClientInfo } from '../domain/client-info.ts';
import type { Services } from '../services.ts';
import { PasswordInputError, readPasswordFromStdin } from './password-stdin.ts';

/** Runs `work` with services on the configured (migrated) store, and closes it afterwards. */
export type WithServices = <T>(work: (services: Services) => Promise<T>) => Promise<T>;

// Audit entries of CLI changes have no actor (whoever has shell access) and this agent.
const CLI_CLIENT: ClientInfo = { ip: null, userAgent: 'gatehouse-cli' };
// Pages fetched from the store while listing; --limit may ask for more in total.
const PAGE_SIZE = 500;

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 1_000_000) {
    throw new InvalidArgumentError('expected a whole number from 1 to 1000000');
  }
  return n;
}

/** A plain-text table: one header, columns padded to their widest cell. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

interface CreateOptions {
  email: string;
  password?: string;
  passwordStdin?: boolean;
  passwordHash?: string;
  role: Role;
}

interface ListOptions {
  limit: number;
  emailPrefix?: string;
  json?: boolean;
}

/**
 * `gatehouse users create|list` (API.md 3, 6): the trusted way to make an admin, to import
 * accounts with existing hashes (argon2id, or bcrypt as passlib writes it), and to see who
 * exists. Output is the public view of a user: never a password or a hash.
 */
export function registerUserCommands(program: Command, withServices: WithServices): void {
  const users = program.command('users').description('manage user accounts');

  users
    .command('create')
    .description('create a user with a new password or an existing hash (any role)')
    .requiredOption('--email <email>', "the user's email address")
    .addOption(
      new Option(
        '--password <password>',
        'a new password, hashed with argon2id (visible in the process list: prefer --password-stdin)',
      ).conflicts(['passwordHash', 'passwordStdin']),
    )
    .addOption(
      new Option(
        '--password-stdin',
        'read the new password from standard input (one line, from a pipe or a file)',
      ).conflicts('passwordHash'),
    )
    .addOption(
      new Option(
        '--password-hash <hash>',
        'an existing hash to import: argon2 ($argon2id$...), bcrypt ($2a$, $2b$, $2y$), passlib $pbkdf2-sha256$ or Django pbkdf2_sha256$; upgraded to argon2id at the first login',
      ),
    )
    .addOption(new Option('--role <role>', 'the role').choices(ROLES).default('user'))
    .action(async (options: CreateOptions, command: Command) => {
      if (
        options.password === undefined &&
        options.passwordHash === undefined &&
        !options.passwordStdin
      ) {
        command.error(
          "error: one of '--password-stdin', '--password <password>' or '--password-hash <hash>' is required",
        );
      }
      let password = options.password ?? '';
      if (options.passwordStdin) {
        try {
          password = await readPasswordFromStdin();
        } catch (error) {
          if (error instanceof PasswordInputError) command.error(`error: ${error.message}`);
          throw error;
        }
      }
      const user = await withServices(async (services): Promise<User> => {
        if (options.passwordHash !== undefined) {
          return services.importUser({
            email: options.email,
            passwordHash: options.passwordHash,
            role: options.role,
          });
        }
        return services.registerUser({
          email: options.email,
          password,
          role: options.role,
          client: CLI_CLIENT,
        });
      });
      console.log(JSON.stringify(toPublicUser(user)));
    });

  users
    .command('list')
    .description('users in order of id, as a table or (--json) one JSON object per line')
    .option('--limit <n>', 'at most this many users', parseLimit, 50)
    .option('--email-prefix <prefix>', 'only users whose email starts with this (any case)')
    .option('--json', 'one JSON object per line instead of a table')
    .action(async (options: ListOptions) => {
      const { items, more } = await withServices(async (services) => {
        const found: User[] = [];
        let afterId: number | undefined;
        for (;;) {
          const page = await services.listUsers({
            limit: Math.min(options.limit - found.length, PAGE_SIZE),
            afterId,
            emailPrefix: options.emailPrefix,
          });
          found.push(...page.items);
          afterId = page.nextAfterId;
          if (afterId === undefined || found.length >= options.limit) {
            return { items: found, more: afterId !== undefined };
          }
        }
      });
      const publicUsers = items.map(toPublicUser);
      if (options.json) {
        for (const user of publicUsers) console.log(JSON.stringify(user));
        return;
      }
      if (publicUsers.length === 0) {
        console.log('no users');
        return;
      }
      const header = ['ID', 'EMAIL', 'ROLE', 'DISABLED', 'CREATED AT'];
      const rows = publicUsers.map((u) => [
        String(u.id),
        u.email,
        u.role,
        u.disabled ? 'yes' : 'no',
        u.created_at,
      ]);
      console.log(formatTable([header, ...rows]));
      if (more) console.error(`gatehouse: more users exist; raise --limit (now ${options.limit})`);
    });
}
