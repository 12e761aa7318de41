import type { Clock } from '../domain/clock.ts';
import type { ClaimedMail, MailOutbox } from '../domain/mail/mail-outbox.ts';
import { DeliveryError, type MailTransport } from '../domain/mail/mail-transport.ts';
import { nextAttemptAt, type RetryPolicy } from '../domain/mail/retry-schedule.ts';

/** Where claimed mail goes: an SMTP server, or (development without SMTP only) the log. */
export type MailDelivery =
  { readonly kind: 'smtp'; readonly transport: MailTransport } | { readonly kind: 'log' };

/** What the sender logs with (pino's shape, as Fastify's `app.log`). */
export interface MailSenderLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export type DeliveryOutcome = 'sent' | 'retried' | 'failed' | 'logged';

export interface MailSenderSettings {
  readonly outbox: MailOutbox;
  readonly clock: Clock;
  readonly delivery: MailDelivery;
  /** The domain part of Message-IDs (RFC 5322 3.6.4): the public URL's host. */
  readonly messageIdDomain: string;
  readonly retry: RetryPolicy;
  /** How often due mail is looked for without a wake-up (retries, other instances' mail). */
  readonly pollIntervalMs?: number;
  readonly batchSize?: number;
  /** How long a claim holds; past it, another sender may take the message over. */
  readonly leaseMs?: number;
  readonly random?: () => number;
}

const DEFAULTS = { pollIntervalMs: 2_000, batchSize: 10, leaseMs: 10 * 60_000 };
// A message is only started while its claim holds for longer than one attempt can take
// (smtp-transport.ts's timeouts add up to under a minute), so a slow attempt can't outlive
// its lease and meet a second sender's attempt at the same message.
const LEASE_MARGIN_MS = 90_000;
// Recording "sent" is retried this often (1 s apart) when the store blips right after the
// server accepted: every failed try widens the window in which the message is sent twice.
const MARK_SENT_TRIES = 5;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * The background sender of one instance (API.md 8): claims due outbox rows, delivers them and
 * records the outcome. Started and stopped by serve.ts; `wake()` after an enqueue makes it
 * deliver at once instead of at its next poll.
 *
 * Delivery is at least once, and in practice once:
 * - Claims are exclusive (MailOutbox.claimBatch), so two instances never send one message at
 *   the same time; a claim of a crashed instance is taken over after its lease.
 * - A message is marked sent right after the SMTP server accepts it. The one window left is a
 *   crash (or a store outage outlasting MARK_SENT_TRIES) between that acceptance and the
 *   commit of "sent": the message is then sent again after the lease, under the same
 *   Message-ID, which lets mail clients and servers recognise the copy. SMTP offers no way to
 *   close it (RFC 5321 6.1 puts the same duty on relays, which also deliver at least once).
 *   On SQLite a power loss (not a killed process) widens it: "sent" commits without an fsync
 *   (sql-mail-outbox.ts), so it reaches the disk with the next flushed commit.
 * - A failed attempt waits with exponential backoff and full jitter; past the maximum age the
 *   message is `failed` (listed by `gatehouse mail list`, counted in /metrics).
 */
export class MailSender {
  readonly #settings: MailSenderSettings & typeof DEFAULTS;
  #log: MailSenderLog | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  #woken = false;
  #wakeUp: (() => void) | undefined;
  readonly #outcomes: Record<DeliveryOutcome, number> = {
    sent: 0,
    retried: 0,
    failed: 0,
    logged: 0,
  };

  constructor(settings: MailSenderSettings) {
    this.#settings = { ...DEFAULTS, ...settings };
  }

  /** Delivery attempts of this process so far, by outcome (for /metrics). */
  get outcomes(): Readonly<Record<DeliveryOutcome, number>> {
    return this.#outcomes;
  }

  get delivery(): MailDelivery['kind'] {
    return this.#settings.delivery.kind;
  }

  /** Starts the loop; idempotent. */
  start(log: MailSenderLog): void {
    if (this.#running) return;
    this.#log = log;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Mail was enqueued: deliver now rather than at the next poll. No-op when not started. */
  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  /**
   * Stops after the message in hand (graceful shutdown waits for it; the rest of its batch is
   * put back at once for another instance), then closes the SMTP connections.
   */
  async stop(): Promise<void> {
    if (this.#running) {
      this.#running = false;
      this.#wakeUp?.();
      await this.#loop;
    }
    if (this.#settings.delivery.kind === 'smtp') await this.#settings.delivery.transport.close();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let handled = 0;
      try {
        handled = await this.deliverDue();
      } catch (error) {
        // The store is down: the mail waits in it; nothing is lost by trying again later.
        this.#log?.warn({ err: error }, 'mail sender: could not claim mail; will try again');
      }
      if (this.#running && handled < this.#settings.batchSize) {
        await this.#sleep(this.#settings.pollIntervalMs);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        this.#woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeUp = done;
    });
  }

  /** One round: claims a batch of due mail and delivers it; returns how many were claimed. */
  async deliverDue(): Promise<number> {
    const { outbox, clock, batchSize, leaseMs } = this.#settings;
    const batch = await outbox.claimBatch({ now: clock.now(), limit: batchSize, leaseMs });
    for (const claim of batch) {
      if (!this.#running && this.#loop !== undefined) {
        // Stopping: put it back, due now, for another instance (or this one's next start).
        await outbox.markRetry(claim, {
          nextAttemptAt: clock.now(),
          error: claim.lastError ?? 'not attempted: the sender stopped',
        });
      } else if (clock.now().getTime() + this.#leaseMargin() <= claim.claimedUntil.getTime()) {
        await this.#deliver(claim);
      }
      // Else the lease is nearly over: leave the message to whoever claims it next.
    }
    return batch.length;
  }

  #leaseMargin(): number {
    return Math.min(LEASE_MARGIN_MS, this.#settings.leaseMs / 2);
  }

  #messageId(claim: ClaimedMail): string {
    // Stable across attempts (see the class comment); the creation time keeps ids of two
    // stores (or a store recreated) apart. Reveals no more than the Date header does.
    return `<${claim.id}.${claim.createdAt.getTime().toString(36)}@${this.#settings.messageIdDomain}>`;
  }

  async #deliver(claim: ClaimedMail): Promise<void> {
    const { outbox, clock, delivery } = this.#settings;
    const mail = { id: claim.id, kind: claim.kind, attempts: claim.attempts };
    if (delivery.kind === 'log') {
      // API.md 8, development only (services.ts never picks this in production): the links
      // in the text part are what a developer needs; nothing leaves the machine.
      this.#log?.info(
        { mail: { ...mail, to: claim.to, subject: claim.subject, text: claim.text } },
        'mail not sent (development without GATEHOUSE_SMTP_URL); kept in the outbox',
      );
      await outbox.markLogged(claim, clock.now());
      this.#outcomes.logged++;
      return;
    }
    try {
      await delivery.transport.send({
        to: claim.to,
        subject: claim.subject,
        text: claim.text,
        html: claim.html,
        date: clock.now(),
        messageId: this.#messageId(claim),
      });
    } catch (error) {
      await this.#failed(claim, error);
      return;
    }
    await this.#markSent(claim);
  }

  async #markSent(claim: ClaimedMail): Promise<void> {
    const { outbox, clock } = this.#settings;
    for (let tries = 1; ; tries++) {
      try {
        if (!(await outbox.markSent(claim, clock.now()))) {
          this.#log?.warn({ mail: { id: claim.id } }, 'mail sent after its claim had passed on');
        }
        this.#outcomes.sent++;
        return;
      } catch (error) {
        if (tries >= MARK_SENT_TRIES) {
          this.#log?.error(
            { err: error, mail: { id: claim.id } },
            'mail sent but not recorded as sent; it will be sent again after its lease',
          );
          return;
        }
        await sleep(1000);
      }
    }
  }

  async #failed(claim: ClaimedMail, error: unknown): Promise<void> {
    const { outbox, clock, retry, random } = this.#settings;
    const reason = error instanceof DeliveryError ? error.message : String(error);
    const permanent = error instanceof DeliveryError && error.permanent;
    const now = clock.now();
    const next = permanent
      ? undefined
      : nextAttemptAt(retry, { attempts: claim.attempts, createdAt: claim.createdAt, now }, random);
    // The recipient's address is personal data: logs name the message by id and kind only.
    const mail = { id: claim.id, kind: claim.kind, attempts: claim.attempts };
    if (next) {
      await outbox.markRetry(claim, { nextAttemptAt: next, error: reason });
      this.#outcomes.retried++;
      this.#log?.warn({ mail, error: reason, retryAt: next }, 'mail delivery failed; will retry');
    } else {
      await outbox.markFailed(claim, { now, error: reason });
      this.#outcomes.failed++;
      this.#log?.error(
        { mail, error: reason },
        permanent
          ? 'mail refused by the SMTP server; gave up'
          : 'mail undelivered too long; gave up',
      );
    }
  }
}
