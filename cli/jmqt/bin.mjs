#!/usr/bin/env node
// The `jmqt` command (package.json "bin": `npx jmqt …` in a clone after
// `npm install`). Runs the compiled CLI, dist/node/cli/jmqt/main.js, when
// `npm run build` (or `npm start`) made it and no source is newer than it;
// otherwise the TypeScript itself through tsx's loader. Either way in this
// one process.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildState, nodeBuild } from '../../scripts/build-state.mjs';

if (buildState(nodeBuild) === 'current') {
  createRequire(import.meta.url)(join(nodeBuild.dir, 'cli/jmqt/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}
