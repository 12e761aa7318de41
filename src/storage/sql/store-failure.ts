import { resolve } from 'node:path';
import { GatehouseError } from '../../domain/errors.ts';

/**
 * Which store a database URL names, for operators: `postgres://HOST:PORT/DATABASE` or
 * `sqlite:/absolute/path`. Never the user name or password (CWE-532: no credential in logs, in
 * error output or in /readyz), and no query parameters, which may hold a password too.
 */
export function describeStoreLocation(url: string): string {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    return path === ':memory:' || path === '' ? url : `sqlite:${resolve(path)}`;
  }
  try {
    const parsed = new URL(url);
    // libpq's ?host= names a Unix socket directory; it is a place, not a secret.
    const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
    return `${parsed.protocol}//${host}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return `${url.split(':')[0]}: (a URL that does not parse)`;
  }
}

/** Every spelling of the URL's password that a driver message could hold. */
function passwordsIn(url: string): string[] {
  try {
    const raw = new URL(url).password;
    return raw === '' ? [] : [...new Set([raw, decodeURIComponent(raw)])];
  } catch {
    return [];
  }
}

/** The driver's own words for a failure, with its code: `ECONNREFUSED: connect ECONNREFUSED ...`. */
function driverReason(error: unknown): string {
  const { code, message, errors } = (error ?? {}) as {
    code?: unknown;
    message?: unknown;
    errors?: unknown;
  };
  // Node reports a refused connection to every address of a name as an AggregateError whose
  // own message is empty; its parts say what happened.
  const text =
    typeof message === 'string' && message !== ''
      ? message
      : Array.isArray(errors)
        ? errors.map((part) => String((part as { message?: unknown }).message)).join('; ')
        : String(error);
  return typeof code === 'string' && !text.startsWith(code) ? `${code}: ${text}` : text;
}

/**
 * An operator's account of why the store can't be used: the driver's reason, with the store's
 * location beside it. It becomes the `cause` of a `store_unavailable` GatehouseError, so it is
 * logged and printed at start, never sent to a client in an error response.
 */
export class StoreFailure extends Error {
  readonly location: string;

  constructor(url: string, error: unknown) {
    let reason = driverReason(error);
    // Defence in depth: drivers don't quote the password, but nothing here relies on that.
    for (const password of passwordsIn(url)) reason = reason.replaceAll(password, '[redacted]');
    super(reason);
    this.name = 'StoreFailure';
    this.location = describeStoreLocation(url);
  }
}

/** GatehouseError `store_unavailable` (503 + Retry-After) for `error`, met on the store at `url`. */
export function storeUnavailable(url: string, error: unknown): GatehouseError {
  if (error instanceof GatehouseError && error.code === 'store_unavailable') return error;
  return new GatehouseError(
    'store_unavailable',
    'The user store is unavailable; try again shortly',
    {
      cause: new StoreFailure(url, error),
      retryAfterSeconds: 2,
    },
  );
}

/**
 * An error's message for an operator: for a store failure, which store and why (`the store
 * postgres://db:5432/gatehouse is unavailable: ECONNREFUSED: ...`), else the message itself.
 */
export function operatorMessage(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof StoreFailure) {
    return `the store ${cause.location} is unavailable: ${cause.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
