// `npm start`'s prestart: builds what is missing or older than its sources,
// the compiled server (`npm run build:node`) and the dashboard
// (`npm run build:client`), and nothing else, so that a second start begins
// at once. Then npm runs `node dist/node/server/main.js` itself.
import { spawnSync } from 'node:child_process';
import { buildState, dashboardBuild, nodeBuild, root } from './build-state.mjs';

function run(script, why) {
  console.error(`npm start: ${why}: npm run ${script}`);
  const result = spawnSync('npm', ['run', '-s', script], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

for (const [script, build, what] of [['build:node', nodeBuild, 'the compiled broker'], ['build:client', dashboardBuild, 'the dashboard']]) {
  const state = buildState(build);
  if (state !== 'current') run(script, `${what} is ${state === 'missing' ? 'not built' : 'older than its sources'}`);
}
