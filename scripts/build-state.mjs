// What `npm start` (scripts/build-missing.mjs) and the `jmqt` launcher
// (cli/jmqt/bin.mjs) ask before they run: is a build there, and is it newer
// than every source it is made from? Only file times are compared, so the
// answer costs a few hundred stat calls.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

/** The compiled server, SDK and CLI (`npm run build:node`); package.json is written last, so it marks a complete build. */
export const nodeBuild = {
  dir: join(root, 'dist/node'),
  stamp: join(root, 'dist/node/package.json'),
  sources: ['server', 'shared', 'cli', 'tsconfig.json', 'tsconfig.build.json'],
};

/** The dashboard (`npm run build:client`). */
export const dashboardBuild = {
  dir: join(root, 'dist/client/browser'),
  stamp: join(root, 'dist/client/browser/index.html'),
  sources: ['client', 'shared', 'angular.json', 'tsconfig.app.json', 'tsconfig.json'],
};

/** Newest modification time (ms) of the files under `path`, tests left out. */
function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return /\.test\.ts$/.test(path) ? 0 : stat.mtimeMs;
  let time = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules') continue;
    time = Math.max(time, newest(join(path, entry)));
  }
  return time;
}

/** 'missing', 'stale' (a source is newer) or 'current'. */
export function buildState({ stamp, sources }) {
  if (!existsSync(stamp)) return 'missing';
  const built = statSync(stamp).mtimeMs;
  return sources.some((source) => newest(join(root, source)) > built) ? 'stale' : 'current';
}
