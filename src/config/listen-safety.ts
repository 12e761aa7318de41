import { BlockList, isIP } from 'node:net';
import type { Config } from './config.ts';
import { ConfigError } from './load-config.ts';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** True when only this machine can connect to `host`. */
export function isLoopbackHost(host: string): boolean {
  const address = host.replace(/^\[(.*)\]$/, '$1');
  if (address.toLowerCase() === 'localhost') return true;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Refuses to serve other machines with signing material anyone with the database can read:
 * the development HS256 secret, or (asymmetric algorithms) private keys stored unencrypted
 * without GATEHOUSE_KEY_ENCRYPTION_KEY. Whoever reads a backup or the database file could
 * mint tokens for any user (CWE-1188: initialisation with an insecure default). On loopback
 * it stays the zero-setup default; production already requires both (token-config.ts).
 */
export function assertSafeToListen(config: Config): void {
  if (isLoopbackHost(config.http.host)) return;
  if (config.tokens.algorithm !== 'HS256') {
    if (config.tokens.keyEncryptionKey !== undefined) return;
    throw new ConfigError([
      `HOST=${config.http.host}: other machines could connect, but GATEHOUSE_KEY_ENCRYPTION_KEY is unset, so the private ${config.tokens.algorithm} signing key would be kept unencrypted in the database. Set GATEHOUSE_KEY_ENCRYPTION_KEY (generate one with: openssl rand -base64 32), ideally with GATEHOUSE_ENV=production, or listen on HOST=127.0.0.1`,
    ]);
  }
  if (config.tokens.secret !== undefined) return;
  throw new ConfigError([
    `HOST=${config.http.host}: other machines could connect, but GATEHOUSE_JWT_SECRET is unset, so tokens would be signed with the development secret kept in the database. Set GATEHOUSE_JWT_SECRET (generate one with: openssl rand -base64 48), ideally with GATEHOUSE_ENV=production, or listen on HOST=127.0.0.1`,
  ]);
}
