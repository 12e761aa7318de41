import type { Command } from 'commander';
import type { SigningKeyInfo } from '../domain/tokens/key-ring.ts';
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
 * `gatehouse keys list|rotate` (API.md 7). Neither ever prints private material: list shows
 * the kid, algorithm, state and times; rotate prints the new kid.
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
}
