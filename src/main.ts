import { ConfigError, loadConfig } from './config/load-config.ts';
import { closeOnSignals, startServer } from './serve.ts';
import { serveCluster } from './serve-cluster.ts';
import { operatorMessage } from './services.ts';

/** `npm start`: serve with the settings of the environment (API.md 6). */
try {
  const config = loadConfig(process.env);
  if (config.workers > 1) await serveCluster(config);
  else closeOnSignals(await startServer(config));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    // A store that can't be reached is named, with the driver's reason (never its password).
    console.error('gatehouse: failed to start:', operatorMessage(error));
  }
  process.exit(1);
}
