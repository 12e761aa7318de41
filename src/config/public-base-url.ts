import { isIP } from 'node:net';
import type { HttpConfig } from './config.ts';

/** The URL of HOST:PORT, with brackets around an IPv6 address. */
export function listenUrl(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * Where clients reach this server, the one base of every absolute URL Gatehouse hands out
 * (the default issuer and `iss`, RFC 8414 metadata, OpenAPI `servers`, links in mail, the
 * passkeys' relying party): GATEHOUSE_PUBLIC_URL, else where it listens, with a wildcard
 * listen address (0.0.0.0, ::) shown as `localhost`, since no client can open a wildcard.
 * Never taken from a request's Host header, which the client chooses (OWASP Forgot Password
 * Cheat Sheet, "password reset poisoning"; WebAuthn L2 13.4.9).
 */
export function publicBaseUrl(http: Pick<HttpConfig, 'publicUrl' | 'host' | 'port'>): string {
  if (http.publicUrl !== undefined) return http.publicUrl;
  const host = ['0.0.0.0', '::', ''].includes(http.host) ? 'localhost' : http.host;
  return listenUrl(host, http.port);
}
