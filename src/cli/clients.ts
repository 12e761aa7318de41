import { InvalidArgumentError, type Command } from 'commander';
import { toPublicApiClient } from '../domain/clients/api-client.ts';
import type { ClientInfo } from '../domain/client-info.ts';
import type { WithServices } from './users.ts';

// Audit entries of CLI changes: no actor (whoever has shell access), marked by the agent.
const CLI_CLIENT: ClientInfo = { ip: null, userAgent: 'gatehouse-cli' };

function parseId(value: string): number {
  const n = Number(value);
  if (!/^\d{1,10}$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 2_147_483_647) {
    throw new InvalidArgumentError('expected the numeric id that `clients list` shows');
  }
  return n;
}

/**
 * `gatehouse clients create|list|delete` (API.md 7): the API clients that may call
 * POST /introspect. Output is one JSON object per line; `create` prints the secret this once
 * (only its SHA-256 is stored) and says so on stderr, so stdout stays machine-readable.
 */
export function registerClientCommands(program: Command, withServices: WithServices): void {
  const clients = program
    .command('clients')
    .description('manage API clients (resource servers that introspect tokens)');

  clients
    .command('create')
    .description('register an API client; prints its client_id and secret once')
    .requiredOption('--name <name>', 'what the client is, 1 to 100 characters')
    .action((options: { name: string }) =>
      withServices(async (services) => {
        const { client, secret } = await services.createApiClient({
          actorId: null,
          client: CLI_CLIENT,
          name: options.name,
        });
        console.log(JSON.stringify({ ...toPublicApiClient(client), client_secret: secret }));
        console.error('Store the client_secret now: it will not be shown again.');
      }),
    );

  clients
    .command('list')
    .description('the registered API clients, one JSON object per line (never secrets)')
    .action(() =>
      withServices(async (services) => {
        for (const client of await services.listApiClients()) {
          console.log(JSON.stringify(toPublicApiClient(client)));
        }
      }),
    );

  clients
    .command('delete')
    .description('delete an API client: its credentials stop working at once')
    .argument('<id>', 'the id that `clients list` shows', parseId)
    .action((id: number) =>
      withServices(async (services) => {
        await services.deleteApiClient({ actorId: null, client: CLI_CLIENT, id });
        console.log(JSON.stringify({ deleted: id }));
      }),
    );
}
