import type { Config } from './config.ts';
import type { EnvReader } from './env-reader.ts';
import { Secret } from './secret.ts';

/** Reads the first administrator's GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL and _PASSWORD: both or neither. */
export function readBootstrapAdmin(read: EnvReader): Config['bootstrapAdmin'] {
  const email = read.optional('GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL');
  const password = read.optional('GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD');
  if ((email === undefined) !== (password === undefined)) {
    read.problems.push(
      'GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL and GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD: set both or neither',
    );
  }
  return email !== undefined && password !== undefined
    ? { email, password: new Secret(password) }
    : undefined;
}
