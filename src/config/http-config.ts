import { isIP } from 'node:net';
import type { HttpConfig } from './config.ts';
import type { EnvReader } from './env-reader.ts';

/** Reads HOST, PORT and the GATEHOUSE_ variables of how Gatehouse answers HTTP. */
export function readHttpConfig(read: EnvReader): HttpConfig {
  const trustProxy = readTrustProxy(read);
  const host = read.string('HOST', '127.0.0.1');
  const port = read.integer('PORT', 8000, 0, 65535);
  return {
    host,
    port,
    publicUrl: readPublicUrl(read),
    bodyLimit: read.integer('GATEHOUSE_BODY_LIMIT', 16_384, 1024, 10_485_760),
    trustProxy,
    corsOrigins: readCorsOrigins(read),
  };
}

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * GATEHOUSE_TRUST_PROXY: who may set X-Forwarded-For, which decides the client IP that rate
 * limits count. `false` (default), `true` (every hop: only when the proxy overwrites the
 * header), or the proxies' addresses / CIDRs / loopback, linklocal, uniquelocal.
 */
function readTrustProxy(read: EnvReader): boolean | string {
  const raw = read.optional('GATEHOUSE_TRUST_PROXY');
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) {
    // Fastify ignores a bare hop count (it can't tell a proxy from a client that way), which
    // would silently trust nothing: say so instead.
    read.problems.push(
      `GATEHOUSE_TRUST_PROXY=${raw}: hop counts are not supported; list the proxy's addresses or CIDRs (e.g. 10.0.0.0/8,loopback), or true if the proxy overwrites X-Forwarded-For`,
    );
    return false;
  }
  for (const entry of raw.split(',').map((e) => e.trim())) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const prefixOk =
      prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
    if (!PROXY_KEYWORDS.has(entry) && (family === 0 || !prefixOk || extra !== undefined)) {
      read.problems.push(
        `GATEHOUSE_TRUST_PROXY: ${JSON.stringify(entry)} is not an address, CIDR or one of loopback, linklocal, uniquelocal; expected true, false or a comma-separated list like 10.0.0.0/8,loopback`,
      );
    }
  }
  return raw;
}

/**
 * GATEHOUSE_CORS_ORIGINS: comma-separated origins (`https://app.example.com`), each exactly as
 * a browser sends it in `Origin`. No `*`: an auth API names the sites it trusts.
 */
function readCorsOrigins(read: EnvReader): string[] {
  const raw = read.optional('GATEHOUSE_CORS_ORIGINS');
  if (raw === undefined) return [];
  const origins = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of origins) {
    let canonical: string | undefined;
    try {
      const url = new URL(origin);
      canonical = /^https?:$/.test(url.protocol) ? url.origin : undefined;
    } catch {
      canonical = undefined;
    }
    if (canonical !== origin) {
      read.problems.push(
        `GATEHOUSE_CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin; expected a comma-separated list like https://app.example.com,http://localhost:5173 (scheme, lower-case host and port only; no path, no *)`,
      );
    }
  }
  return origins;
}

/**
 * GATEHOUSE_PUBLIC_URL: where browsers reach this server (`https://auth.example.com`), when a
 * proxy stands in between. An absolute http(s) URL without query, fragment or credentials; kept
 * without a trailing slash, so links and the issuer can be built by appending a path.
 */
function readPublicUrl(read: EnvReader): string | undefined {
  const raw = read.optional('GATEHOUSE_PUBLIC_URL');
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  const acceptable =
    url !== undefined &&
    /^https?:$/.test(url.protocol) &&
    url.hostname !== '' &&
    url.username === '' &&
    url.password === '' &&
    !raw.includes('?') &&
    !raw.includes('#');
  if (!url || !acceptable) {
    read.problems.push(
      `GATEHOUSE_PUBLIC_URL=${JSON.stringify(raw)}: expected the absolute http(s) URL browsers use to reach Gatehouse, like https://auth.example.com (no query, fragment or user:password)`,
    );
    return undefined;
  }
  return url.href.replace(/\/$/, '');
}
