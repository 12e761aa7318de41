import { InvalidArgumentError, type Command } from 'commander';
import { GatehouseError } from '../domain/errors.ts';
import { MAIL_STATUSES, type MailStatus, type OutboxMessage } from '../domain/mail/mail-outbox.ts';
import type { WithServices } from './users.ts';

function parseStatus(value: string): MailStatus {
  if (!(MAIL_STATUSES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of: ${MAIL_STATUSES.join(', ')}`);
  }
  return value as MailStatus;
}

function parseId(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected an outbox id (a positive integer)');
  }
  return n;
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 10_000) {
    throw new InvalidArgumentError('expected an integer from 1 to 10000');
  }
  return n;
}

/** One line per message: what an operator needs to see where mail stands; no bodies. */
function summary(message: OutboxMessage) {
  return {
    id: message.id,
    created_at: message.createdAt.toISOString(),
    to: message.to,
    kind: message.kind,
    subject: message.subject,
    status: message.status,
    attempts: message.attempts,
    next_attempt_at: message.status === 'queued' ? message.nextAttemptAt.toISOString() : null,
    sent_at: message.sentAt?.toISOString() ?? null,
    last_error: message.lastError,
  };
}

const BODY_WARNING =
  'Mail bodies hold live links (password reset, email verification): for development and ' +
  'operations only; never paste them anywhere.';

/**
 * `gatehouse mail list|show|test` (API.md 8): the outbox as it stands, on the store the server
 * uses. Sent and failed messages no longer hold bodies; development's logged ones do.
 */
export function registerMailCommands(program: Command, withServices: WithServices): void {
  const mail = program
    .command('mail')
    .description('the mail outbox: what was sent, what waits, what failed');

  mail
    .command('list')
    .description('outbox messages, newest first, one JSON object per line (no bodies)')
    .option('--to <email>', 'only messages to this address')
    .option('--status <status>', MAIL_STATUSES.join(' | '), parseStatus)
    .option('--limit <n>', 'at most this many messages (default 50)', parseLimit, 50)
    .action((options: { to?: string; status?: MailStatus; limit: number }) =>
      withServices(async (services) => {
        const messages = await services.listMail({
          to: options.to,
          status: options.status,
          limit: options.limit,
        });
        for (const message of messages) console.log(JSON.stringify(summary(message)));
      }),
    );

  mail
    .command('show')
    .description(`one message with its text part, links included. ${BODY_WARNING}`)
    .argument('<id>', 'the outbox id (from mail list)', parseId)
    .action((id: number) =>
      withServices(async (services) => {
        const message = await services.getMail(id);
        if (!message) throw new GatehouseError('not_found', `no outbox message ${id}`);
        console.log(JSON.stringify(summary(message)));
        console.log('');
        console.log(
          message.text ??
            '(body removed: the message was sent or given up, and may have held a token)',
        );
      }),
    );

  mail
    .command('test')
    .description('queue a test message to EMAIL; a running server sends it (check with mail list)')
    .requiredOption('--to <email>', 'the address to send the test message to')
    .action((options: { to: string }) =>
      withServices(async (services) => {
        services.requireMailDelivery();
        const id = await services.sendTestMail(options.to);
        console.log(JSON.stringify({ queued: id, to: options.to }));
      }),
    );
}
