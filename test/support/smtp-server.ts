import { once } from 'node:events';
import { SMTPServer } from 'smtp-server';
import { freePort } from './free-port.ts';

/** One MIME part: its headers (lower-case names) and its decoded body. */
export interface MimePart {
  readonly headers: ReadonlyMap<string, string>;
  readonly contentType: string;
  readonly body: string;
  readonly parts: readonly MimePart[];
}

/** A message as the server received it over the socket, raw and parsed. */
export interface ReceivedMail extends MimePart {
  readonly raw: string;
  /** The SMTP envelope: MAIL FROM and RCPT TO. */
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  header(name: string): string | undefined;
  /** The text/plain and text/html parts, found at any depth. */
  readonly text: string | undefined;
  readonly html: string | undefined;
}

// RFC 2047 encoded words, as nodemailer writes non-ASCII headers.
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(
      /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g,
      (_, _charset: string, encoding: string, text: string) =>
        encoding.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64').toString('utf8')
          : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const unfolded = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < unfolded.length; i++) {
    const hex = unfolded.slice(i + 1, i + 3);
    if (unfolded[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(unfolded[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      headers.set(
        line.slice(0, colon).trim().toLowerCase(),
        decodeWords(line.slice(colon + 1).trim()),
      );
    }
  }
  return headers;
}

/** A small MIME parser: enough for the multipart/alternative messages nodemailer builds. */
export function parseMime(raw: string): MimePart {
  const split = raw.search(/\r?\n\r?\n/);
  const headerBlock = split < 0 ? raw : raw.slice(0, split);
  const bodyText = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = parseHeaders(headerBlock);
  const contentType = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (/^multipart\//i.test(contentType) && boundary) {
    const sections = bodyText.split(`--${boundary}`).slice(1);
    const parts = sections
      .filter((s) => !s.startsWith('--'))
      .map((s) => parseMime(s.replace(/^\r?\n/, '').replace(/\r?\n$/, '')));
    return { headers, contentType, body: '', parts };
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const body =
    encoding === 'base64'
      ? Buffer.from(bodyText.replace(/\s+/g, ''), 'base64').toString('utf8')
      : encoding === 'quoted-printable'
        ? decodeQuotedPrintable(bodyText)
        : bodyText;
  return { headers, contentType, body, parts: [] };
}

function findPart(part: MimePart, type: string): MimePart | undefined {
  if (part.contentType.toLowerCase().startsWith(type)) return part;
  for (const child of part.parts) {
    const found = findPart(child, type);
    if (found) return found;
  }
  return undefined;
}

/**
 * A real SMTP server (npm smtp-server) inside the test process, on 127.0.0.1 without TLS or
 * authentication, collecting what it receives. `stop()` and `start()` again keep the port,
 * so an outage can be staged for a Gatehouse configured with `url`.
 */
export class TestSmtpServer {
  readonly port: number;
  readonly received: ReceivedMail[] = [];
  #server: SMTPServer | undefined;
  #refuse: number | undefined;
  #waiters: Array<() => void> = [];
  #held: Promise<void> | undefined;
  #arrivedWhileHeld: (() => void) | undefined;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(): Promise<TestSmtpServer> {
    const server = new TestSmtpServer(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** From now on RCPT TO is answered with this 5yz code (a permanent refusal); undefined = accept. */
  refuseRecipients(code: number | undefined): void {
    this.#refuse = code;
  }

  /**
   * Until `release()` is called, messages are received but not answered (the client waits for
   * the reply to DATA); `arrived` resolves when the first one is in.
   */
  hold(): { arrived: Promise<void>; release: () => void } {
    let release!: () => void;
    this.#held = new Promise((resolve) => (release = resolve));
    const arrived = new Promise<void>((resolve) => (this.#arrivedWhileHeld = resolve));
    return {
      arrived,
      release: () => {
        this.#held = undefined;
        release();
      },
    };
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const server = new SMTPServer({
      logger: false,
      secure: false,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      closeTimeout: 50,
      onRcptTo: (_address, _session, callback) => {
        if (this.#refuse === undefined) return callback();
        const error = Object.assign(new Error('Mailbox unavailable'), {
          responseCode: this.#refuse,
        });
        callback(error);
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const held = this.#held;
          this.#arrivedWhileHeld?.();
          void (held ?? Promise.resolve()).then(() => {
            this.#record(Buffer.concat(chunks).toString('utf8'), session);
            callback();
          });
        });
      },
    });
    server.on('error', () => {});
    server.listen(this.port, '127.0.0.1');
    await once(server.server, 'listening');
    this.#server = server;
  }

  /** Closes the port and drops open connections: an outage, as a client sees one. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #record(raw: string, session: { envelope: { mailFrom: unknown; rcptTo: unknown[] } }): void {
    const parsed = parseMime(raw);
    const mailFrom = session.envelope.mailFrom as { address: string } | false;
    const rcptTo = session.envelope.rcptTo as Array<{ address: string }>;
    this.received.push({
      ...parsed,
      raw,
      envelope: { from: mailFrom ? mailFrom.address : '', to: rcptTo.map((r) => r.address) },
      header: (name) => parsed.headers.get(name.toLowerCase()),
      text: findPart(parsed, 'text/plain')?.body,
      html: findPart(parsed, 'text/html')?.body,
    });
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `count` messages in all have arrived; rejects after `timeoutMs`. */
  async waitForCount(count: number, timeoutMs = 10_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`expected ${count} messages, received ${this.received.length}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received;
  }
}
