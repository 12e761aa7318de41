import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../domain/errors.ts';

/**
 * Cookie mode for browser clients (the web UI). A client that sends
 * `X-Gatehouse-Refresh-Cookie: 1` to POST /token gets its refresh token as a cookie instead of
 * in the JSON body, so page scripts never see it:
 * - HttpOnly (no script access), SameSite=Strict (never sent on cross-site requests), Path=/token
 *   (sent to nothing else), Secure whenever the request came over HTTPS (OWASP ASVS 3.4).
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

/** CSRF check for cookie-authenticated calls: our header present, and a same-origin Origin. */
export function assertSameOriginCookieCall(request: FastifyRequest): void {
  const origin = request.headers.origin;
  const host = request.headers.host;
  const sameOrigin =
    origin === undefined ||
    (typeof host === 'string' && origin === `${request.protocol}://${host}`);
  if (!wantsRefreshCookie(request) || !sameOrigin) {
    throw new GatehouseError('invalid_grant', 'Cross-site refresh refused');
  }
}

function cookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${REFRESH_COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`;
}

export function setRefreshCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  maxAgeSeconds: number,
): void {
  reply.header('set-cookie', cookie(request, token, maxAgeSeconds));
}

export function clearRefreshCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', cookie(request, '', 0));
}
