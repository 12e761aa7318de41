#!/usr/bin/env node
// The `gatehouse` command (package.json "bin"): runs the TypeScript CLI through tsx, so no
// build step stands between a clone and `npx gatehouse`.
import { register } from 'tsx/esm/api';

register();
// Imported only after register(): a static import would be resolved before tsx is in place.
await import('../src/cli/main.ts');
