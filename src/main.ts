import { ConfigError, loadConfig } from './config/load-config.ts';
import { closeOnSignals, startServer } from './serve.ts';

/** `npm start`: serve with the settings of the environment (API.md 6). */
try {
  const server = await startServer(loadConfig(process.env));
  closeOnSignals(server);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('gatehouse: failed to start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
}
