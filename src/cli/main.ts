import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load-config.ts';
import { GatehouseError } from '../domain/errors.ts';
import { SigningKeyUnavailableError } from '../domain/tokens/key-material.ts';
import { openServices, operatorMessage } from '../services.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { registerAdminCommands } from './admin-commands.ts';
import { registerKeyCommands } from './key-commands.ts';
import { registerClientCommands } from './clients.ts';
import { registerMailCommands } from './mail-commands.ts';
import { registerResealCommand } from './reseal-command.ts';
import { registerServerCommands } from './server-commands.ts';
import { registerTransferCommands } from './transfer-commands.ts';
import { registerUserCommands, type WithServices } from './users.ts';

/**
 * `gatehouse` (bin/gatehouse.js): serve, migrate and manage users from the shell, on the store
 * and settings the server uses (API.md 6). Expected failures (bad configuration, a taken email,
 * invalid input) print one `error:` line and exit 1; only real bugs show a stack trace.
 */

/** Services on the configured store, migrated first, so a fresh database works at once. */
const withServices: WithServices = async (work) => {
  const config = loadConfig(process.env);
  const opened = await openServices(config, { poolSize: config.storage.poolSize });
  try {
    return await work(opened.services);
  } finally {
    await opened.close();
  }
};

function version(): string {
  const packageJson = readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8');
  return (JSON.parse(packageJson) as { version: string }).version;
}

/** One line for an expected error: what went wrong and, for bad input, which option. */
function describeGatehouseError(error: GatehouseError): string {
  if (error.code === 'invalid_input' && error.field !== undefined) {
    return `error: --${error.field.replaceAll('_', '-')}: ${error.message}`;
  }
  return `error: ${operatorMessage(error)}`;
}

const program = new Command('gatehouse')
  .description('Gatehouse: a self-hostable authentication and user-management service')
  .version(version())
  .showHelpAfterError('(run with --help for usage)');
registerServerCommands(program);
registerUserCommands(program, withServices);
registerAdminCommands(program, withServices);
registerKeyCommands(program, withServices);
registerResealCommand(program);
registerClientCommands(program, withServices);
registerMailCommands(program, withServices);
registerTransferCommands(program, withServices);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else if (error instanceof GatehouseError) {
    console.error(describeGatehouseError(error));
  } else if (error instanceof SigningKeyUnavailableError) {
    // A wrong or missing GATEHOUSE_KEY_ENCRYPTION_KEY: the operator's to fix, not a bug.
    console.error(`error: ${error.message}`);
  } else if (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string') {
    // System errors (EADDRINUSE, EACCES, ECONNREFUSED, ...) are about the environment.
    console.error(`error: ${error.message}`);
  } else {
    console.error('error: unexpected failure (a bug; please report it):', error);
  }
  process.exitCode = 1;
}
