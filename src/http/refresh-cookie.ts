import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../domain/errors.ts';

/**
 * Cookie mode for browser clients (the web UI). A client that sends
 * `X-Gatehouse-Refresh-Cookie: 1` to POST /token gets its refresh token as a cookie instead of
 * in the JSON body, so page scripts never see it:
 * - HttpOnly (no script access), SameSite=Strict (never sent on cross-site requests), Path=/token
 *   (sent to nothing else), Secure whenever browsers reach us over HTTPS (OWASP ASVS 3.4).
 * - A refresh grant without a `refresh_token` field then reads the cookie. Against CSRF it needs
 *   the same custom header, which a cross-site page can't send without a CORS preflight that we
 *   don't grant, and an `Origin`, when present, equal to our own (ASVS 4.2.2, 13.2.3).
 */
export const REFRESH_COOKIE = 'gatehouse_refresh';
export const COOKIE_MODE_HEADER = 'x-gatehouse-refresh-cookie';
const COOKIE_PATH = '/token';

export function wantsRefreshCookie(request: FastifyRequest): boolean {
  return request.headers[COOKIE_MODE_HEADER] === '1';
}

export function readRefreshCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === REFRESH_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

export interface RefreshCookieSettings {
  /** GATEHOUSE_PUBLIC_URL: where browsers reach us; undefined = each request's own origin. */
  publicUrl: string | undefined;
  /** GATEHOUSE_TRUST_PROXY, only to say what to set when a proxy hides https from us. */
  trustProxy: boolean | string;
}

const CROSS_SITE = 'Cross-site refresh refused';

/** Our origin, as browsers see it, and the cookie attributes that follow from it. */
export class RefreshCookies {
  readonly #publicOrigin: string | undefined;
  readonly #trustsProxy: boolean;

  constructor(settings: RefreshCookieSettings) {
    this.#publicOrigin =
      settings.publicUrl === undefined ? undefined : new URL(settings.publicUrl).origin;
    this.#trustsProxy = settings.trustProxy !== false;
  }

  /**
   * CSRF check for cookie-authenticated calls: our header present, and an Origin, when sent,
   * equal to ours: GATEHOUSE_PUBLIC_URL's when set (a proxy may rewrite Host and scheme), else
   * the request's own scheme and host (X-Forwarded-* count only from trusted proxies).
   */
  assertSameOrigin(request: FastifyRequest): void {
    const origin = request.headers.origin;
    if (!wantsRefreshCookie(request)) throw new GatehouseError('invalid_grant', CROSS_SITE);
    if (origin === undefined) return;
    const ours = this.#publicOrigin ?? `${request.protocol}://${request.host}`;
    if (origin === ours) return;
    // A page of our own host over https while we see http: a TLS-terminating proxy whose
    // X-Forwarded-Proto we don't trust. Say what to set; other sites get no advice.
    if (this.#publicOrigin === undefined && origin === `https://${request.host}`) {
      const fix = this.#trustsProxy
        ? `make the proxy send X-Forwarded-Proto, or set GATEHOUSE_PUBLIC_URL=${origin}`
        : `set GATEHOUSE_TRUST_PROXY to the proxy's address (or GATEHOUSE_PUBLIC_URL=${origin})`;
      const message = `${CROSS_SITE}: the page is ${origin} but the request reached Gatehouse over http; behind a TLS-terminating proxy, ${fix}`;
      request.log.warn({ origin }, message);
      throw new GatehouseError('invalid_grant', message);
    }
    throw new GatehouseError('invalid_grant', CROSS_SITE);
  }

  set(request: FastifyRequest, reply: FastifyReply, token: string, maxAgeSeconds: number): void {
    reply.header('set-cookie', this.#cookie(request, token, maxAgeSeconds));
  }

  clear(request: FastifyRequest, reply: FastifyReply): void {
    reply.header('set-cookie', this.#cookie(request, '', 0));
  }

  #cookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
    // ASVS 3.4.1: Secure whenever browsers use https, which behind a proxy only the public
    // URL may tell us.
    const https = request.protocol === 'https' || this.#publicOrigin?.startsWith('https:');
    const secure = https ? '; Secure' : '';
    return `${REFRESH_COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`;
  }
}
