import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.ts';
import { closeOnSignals, startServer } from '../serve.ts';
import { serveCluster } from '../serve-cluster.ts';
import { migrateStore } from '../services.ts';

/** The environment with the command line's settings laid over it (unset options change nothing). */
function withOverrides(
  env: NodeJS.ProcessEnv,
  overrides: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const set = Object.entries(overrides).filter(([, value]) => value !== undefined);
  return { ...env, ...Object.fromEntries(set) };
}

/** `gatehouse serve` (what `npm start` does) and `gatehouse migrate`. */
export function registerServerCommands(program: Command): void {
  program
    .command('serve')
    .description('serve the HTTP API with the settings of the environment (as npm start does)')
    .option('--port <port>', 'listen on this port (overrides PORT; 0 picks a free one)')
    .option('--host <host>', 'listen on this address (overrides HOST)')
    .option('--workers <n>', 'processes sharing the port (overrides GATEHOUSE_WORKERS)')
    .action(async (options: { port?: string; host?: string; workers?: string }) => {
      // Through loadConfig, so an option is validated exactly like its variable.
      const config = loadConfig(
        withOverrides(process.env, {
          PORT: options.port,
          HOST: options.host,
          GATEHOUSE_WORKERS: options.workers,
        }),
      );
      if (config.workers > 1) await serveCluster(config);
      else closeOnSignals(await startServer(config));
    });

  program
    .command('migrate')
    .description('apply pending database migrations; prints the names of those applied')
    .action(async () => {
      const config = loadConfig(process.env);
      const applied = await migrateStore(config, config.storage.poolSize);
      for (const name of applied) console.log(name);
      console.error(
        applied.length === 0
          ? 'gatehouse: the database is up to date'
          : `gatehouse: applied ${applied.length} migration(s)`,
      );
    });
}
