// Runs every test suite of the project: node's test runner over the
// `*.test.ts` files (shared, server, SDK, e2e), then the Angular Karma suite.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['shared', 'server', 'e2e'];
const only = process.argv.slice(2);

function findTests(dir) {
  let found = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') found = found.concat(findTests(path));
    else if (entry.name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const files = roots.flatMap(findTests).filter((file) => only.length === 0 || only.some((part) => file.includes(part)));
const node = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
if (node.status !== 0) process.exit(node.status ?? 1);
