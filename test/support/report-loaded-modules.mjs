// Preloaded into a server process (`node --import <this file> dist/main.js`) by tests: on
// SIGUSR2 it writes one line to stderr listing the CommonJS files loaded so far (Node keeps every
// CommonJS module in one cache, whether `require` or `import` loaded it). Plain JavaScript: it
// runs before any loader that could compile TypeScript.
import { createRequire } from 'node:module';

const cache = createRequire(import.meta.url).cache;
process.on('SIGUSR2', () => {
  process.stderr.write(`loaded-modules: ${JSON.stringify(Object.keys(cache))}\n`);
});
