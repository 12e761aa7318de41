import type { Command } from 'commander';
import { GatehouseError } from '../domain/errors.ts';
import { KEY_SET_MAX_AGE_SECONDS, type SigningKeyInfo } from '../domain/tokens/key-ring.ts';
import { JWKS_MAX_AGE_SECONDS } from '../http/routes/well-known.ts';
import { formatTable, type WithServices } from './users.ts';

function toJson(key: SigningKeyInfo): Record<string, string | null> {
  return {
    kid: key.kid,
    alg: key.alg,
    state: key.state,
    created_at: key.createdAt.toISOString(),
    activated_at: key.activatedAt.toISOString(),
    retired_at: key.retiredAt?.toISOString() ?? null,
  };
}

/**
 * `gatehouse keys list|rotate|withdraw` (API.md 7). None ever prints private material: list
 * shows the kid, algorithm, state and times; rotate prints the new kid; withdraw what it did.
 */
export function registerKeyCommands(program: Command, withServices: WithServices): void {
  const keys = program.command('keys').description('asymmetric signing keys (JWKS)');

  keys
    .command('list')
    .description(
      'signing keys, oldest first: active (signs), retired (still in the JWKS until the tokens it signed expire), expired',
    )
    .option('--json', 'one JSON object per line instead of a table')
    .action(async (options: { json?: boolean }) => {
      const { algorithm, list } = await withServices(async (services) => ({
        algorithm: services.signingKeys.algorithm,
        list: (await services.signingKeys.list()).map(toJson),
      }));
      if (options.json) {
        for (const key of list) console.log(JSON.stringify(key));
        return;
      }
      if (list.length === 0) {
        console.log(
          algorithm === 'HS256' ? 'no stored keys (GATEHOUSE_JWT_ALG is HS256)' : 'no keys',
        );
        return;
      }
      const header = ['KID', 'ALG', 'STATE', 'CREATED AT', 'ACTIVATED AT', 'RETIRED AT'];
      const rows = list.map((k) => [
        k.kid ?? '',
        k.alg ?? '',
        k.state ?? '',
        k.created_at ?? '',
        k.activated_at ?? '',
        k.retired_at ?? '-',
      ]);
      console.log(formatTable([header, ...rows]));
    });

  keys
    .command('rotate')
    .description(
      'make a new key the active one on every instance (the old one keeps verifying its tokens); prints the new kid',
    )
    .action(async () => {
      const { kid, rotated } = await withServices((services) => services.signingKeys.rotate());
      console.log(kid);
      if (!rotated) {
        console.error('gatehouse: another rotation won at the same moment; its key is active');
      }
    });

  keys
    .command('withdraw')
    .argument('<kid>', 'the key to withdraw (see gatehouse keys list)')
    // A kid is base64url (an RFC 7638 thumbprint), so one in 64 begins with '-': it must reach
    // the action as the kid, not fail as an unknown option. Help is --help alone, so a kid
    // beginning with '-h' is a kid too.
    .helpOption('--help', 'display help for command')
    .allowUnknownOption()
    .description(
      'take a compromised key out of service now: the active key is rotated first; then every instance refuses the tokens it signed and stops publishing it within seconds',
    )
    .action(async (kid: string) => {
      const withdrawal = await withServices((services) => services.signingKeys.withdraw(kid));
      if (!withdrawal) {
        throw new GatehouseError('not_found', `no signing key ${kid} (see gatehouse keys list)`);
      }
      console.log(`withdrawn: ${withdrawal.kid}`);
      if (withdrawal.replacedBy) {
        console.log(`active: ${withdrawal.replacedBy} (rotated first: it was the active key)`);
      }
      console.log(
        `Every Gatehouse instance refuses the tokens it signed, and leaves it out of the JWKS, within ${KEY_SET_MAX_AGE_SECONDS} s.`,
      );
      console.log(
        `Resource servers that verify with a cached copy of the JWKS accept them until that copy expires (served with max-age=${JWKS_MAX_AGE_SECONDS} s, which the resource-server SDK follows by default); those that introspect refuse them within ${KEY_SET_MAX_AGE_SECONDS} s.`,
      );
    });
}
