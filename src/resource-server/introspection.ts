import { ResourceServerError } from './errors.ts';

export interface IntrospectionOptions {
  clientId: string;
  clientSecret: string;
  /**
   * How long an answer (active or not) is reused for the same token. 0 (the default) asks on
   * every request: a logout reaches this service at once. N seconds: a revoked token may
   * still pass here for up to N seconds, in exchange for one call per token per N seconds.
   */
  cacheSeconds?: number;
  /** At most this many answers are remembered (oldest dropped first). Default 10 000. */
  maxCacheEntries?: number;
}

interface CachedAnswer {
  active: boolean;
  until: number;
}

function failed(why: string, cause?: unknown): ResourceServerError {
  return new ResourceServerError(
    'introspection_failed',
    `Could not check the token with the authorization server: ${why}`,
    { cause },
  );
}

/**
 * RFC 6749 2.3.1: client id and secret are form-urlencoded before they are joined and
 * base64-encoded, so a secret with ':' or non-ASCII characters survives the trip.
 */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  // URLSearchParams serializes as application/x-www-form-urlencoded (' ' → '+', and so on).
  const encode = (value: string) => new URLSearchParams([['', value]]).toString().slice(1);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/**
 * Asks Gatehouse's RFC 7662 endpoint whether a token (already verified locally) is still
 * active, for services that must see a logout or revocation before the token expires.
 * Fails closed: an endpoint that cannot be reached or answers nonsense is an error, never a
 * pass.
 */
export class IntrospectionClient {
  readonly #authorization: string;
  readonly #cacheMs: number;
  readonly #maxEntries: number;
  readonly #timeoutMs: number;
  readonly #answers = new Map<string, CachedAnswer>();

  constructor(options: IntrospectionOptions, timeoutMs: number) {
    const cacheSeconds = options.cacheSeconds ?? 0;
    if (!Number.isFinite(cacheSeconds) || cacheSeconds < 0) {
      throw new TypeError('introspect.cacheSeconds must be a number of seconds, 0 or more');
    }
    if (!options.clientId || !options.clientSecret) {
      throw new TypeError('introspect needs clientId and clientSecret');
    }
    this.#authorization = basicAuthorization(options.clientId, options.clientSecret);
    this.#cacheMs = cacheSeconds * 1000;
    this.#maxEntries = options.maxCacheEntries ?? 10_000;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Throws `token_revoked` when Gatehouse says the token is not active, `introspection_failed`
   * when it cannot tell. `tokenId` (the verified jti) keys the cache, so no token is kept.
   */
  async check(endpoint: URL, token: string, tokenId: string, nowMs: number): Promise<void> {
    const cached = this.#answers.get(tokenId);
    let active: boolean;
    if (cached && nowMs < cached.until) {
      active = cached.active;
    } else {
      active = await this.#ask(endpoint, token);
      this.#remember(tokenId, active, nowMs);
    }
    if (!active) {
      throw new ResourceServerError('token_revoked', 'The access token has been revoked');
    }
  }

  async #ask(endpoint: URL, token: string): Promise<boolean> {
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          authorization: this.#authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw failed('the request failed', error);
    }
    if (response.status === 401) {
      await response.body?.cancel();
      throw failed('it refused the client id or secret (HTTP 401)');
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw failed(`HTTP ${response.status}`);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw failed('the answer is not JSON', error);
    }
    const active = (body as { active?: unknown } | null)?.active;
    if (typeof active !== 'boolean') throw failed('the answer has no boolean "active"');
    return active;
  }

  #remember(tokenId: string, active: boolean, nowMs: number): void {
    if (this.#cacheMs === 0) return;
    this.#answers.delete(tokenId);
    if (this.#answers.size >= this.#maxEntries) {
      const oldest = this.#answers.keys().next().value;
      if (oldest !== undefined) this.#answers.delete(oldest);
    }
    this.#answers.set(tokenId, { active, until: nowMs + this.#cacheMs });
  }
}
