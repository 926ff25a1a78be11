// `npm run build:node`: compiles the server, the shared code (the SDK with
// its Node transports) and the command line to JavaScript in dist/node with
// tsc (tsconfig.build.json), for `npm start` and the `jmqt` command.
//
// The sources are ES modules with extensionless imports (bundler resolution,
// for tsx and Angular), which Node cannot run as ESM, so they are emitted as
// CommonJS, which resolves `./x` to `./x.js` by itself; dist/node/package.json
// says {"type": "commonjs"} against the root's "module". Dynamic import()s
// (the lazily loaded parts) become require(), and Node >= 20.19 can
// require() the one ES-only dependency (jose).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeBuild, root } from './build-state.mjs';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(nodeBuild.dir, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('build:node: tsc failed');
  process.exit(result.status ?? 1);
}
// Written last: its presence marks a complete build (scripts/build-state.mjs).
writeFileSync(nodeBuild.stamp, JSON.stringify({ type: 'commonjs' }) + '\n');
