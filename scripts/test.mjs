// `npm test`: every suite of the project, in order: node's test runner over
// the `*.test.ts` files (shared, server, SDK, e2e), then the Angular Karma
// suite in headless Chromium. Ends with one "N passed, N failed" line for all.
// `npm test -- server/tests` runs only the node test files whose path matches.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['shared', 'server', 'cli', 'e2e'];
const filters = process.argv.slice(2);

function findTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : findTests(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Runs a command, echoing its output, and answers its exit code and output. */
function run(command, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const echo = (stream) => (chunk) => {
      output += chunk;
      stream.write(chunk);
    };
    child.stdout.on('data', echo(process.stdout));
    child.stderr.on('data', echo(process.stderr));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

const totals = { passed: 0, failed: 0 };
let failed = false;

// The end-to-end tests drive the built dashboard, so build it first.
if (filters.length === 0 || filters.some((part) => 'e2e/'.includes(part) || part.includes('e2e'))) {
  const build = await run('npx', ['ng', 'build'], { NG_CLI_ANALYTICS: 'false' });
  if (build.code !== 0) {
    console.error('the dashboard build failed');
    console.log('\n0 passed, 1 failed');
    process.exit(1);
  }
}

const files = roots.flatMap(findTests).filter((file) => filters.length === 0 || filters.some((part) => file.includes(part)));
if (files.length > 0) {
  const node = await run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files]);
  totals.passed += Number(/ℹ pass (\d+)/.exec(node.output)?.[1] ?? 0);
  totals.failed += Number(/ℹ fail (\d+)/.exec(node.output)?.[1] ?? 0);
  failed ||= node.code !== 0;
}

if (filters.length === 0) {
  const chrome = process.env.CHROME_BIN ?? '/usr/bin/chromium';
  if (!existsSync(chrome)) {
    console.error(`Chromium not found at ${chrome}: install Debian's chromium package or set CHROME_BIN.`);
    failed = true;
  } else {
    const karma = await run('npx', ['ng', 'test', '--watch=false'], { CHROME_BIN: chrome, NG_CLI_ANALYTICS: 'false' });
    const executed = [...karma.output.matchAll(/Executed (\d+) of (\d+)(?: \((\d+) FAILED\))?/g)].at(-1);
    const ran = Number(executed?.[1] ?? 0);
    const karmaFailed = Number(executed?.[3] ?? 0);
    totals.passed += ran - karmaFailed;
    totals.failed += karmaFailed;
    if (karma.code !== 0 && karmaFailed === 0) totals.failed += 1;
    failed ||= karma.code !== 0 || ran === 0;
  }
}

console.log(`\n${totals.passed} passed, ${totals.failed} failed`);
process.exit(failed ? 1 : 0);
