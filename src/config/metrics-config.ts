import type { MetricsConfig } from './config.ts';
import type { EnvReader } from './env-reader.ts';
import { Secret } from './secret.ts';
import { guessableSecretReason, MIN_SECRET_LENGTH } from './secret-strength.ts';

/** Reads GATEHOUSE_METRICS and GATEHOUSE_METRICS_TOKEN. */
export function readMetricsConfig(read: EnvReader, production: boolean): MetricsConfig {
  return {
    // ASVS 14.3 / CWE-200: the hashing queue and login-failure counters tell an attacker how
    // an attack is going; production exposes them only when asked (and ideally with a token).
    enabled: read.flag('GATEHOUSE_METRICS', !production),
    token: readMetricsToken(read),
  };
}

/** GATEHOUSE_METRICS_TOKEN: the bearer token Prometheus must send for GET /metrics, if any. */
function readMetricsToken(read: EnvReader): Secret | undefined {
  const raw = read.optional('GATEHOUSE_METRICS_TOKEN');
  if (raw === undefined) return undefined;
  const weakness =
    raw.length < MIN_SECRET_LENGTH
      ? `has fewer than ${MIN_SECRET_LENGTH} characters`
      : guessableSecretReason(raw);
  if (weakness !== undefined) {
    read.problems.push(
      `GATEHOUSE_METRICS_TOKEN: is guessable (it ${weakness}); generate one with: openssl rand -base64 32`,
    );
  }
  return new Secret(raw);
}
