import type { Config } from './config.ts';
import { listenUrl } from './load-config.ts';

/**
 * Where clients reach this server: GATEHOUSE_PUBLIC_URL, else where it listens, with a
 * wildcard listen address (0.0.0.0, ::) shown as `localhost`, an address no client can open.
 * Never taken from a request's Host header, which the client chooses.
 */
export function publicBaseUrl(config: Pick<Config, 'publicUrl' | 'host' | 'port'>): string {
  if (config.publicUrl !== undefined) return config.publicUrl;
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host;
  return listenUrl(host, config.port);
}
