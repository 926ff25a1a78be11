/**
 * Builds the SDK (`shared/client`) as the installable package `@jmqt/client`:
 * ESM JavaScript with declarations, compiled by tsc from the SDK and the
 * shared modules it imports (codec, packets, status, keys, channel, framer),
 * which travel inside the package.
 *
 *   npm run build:sdk                 # → dist/jmqt-client/ (package.json, README.md, dist/)
 *   npm run pack:sdk                  # the same, then npm pack → dist/jmqt-client-<version>.tgz
 *   npx tsx scripts/build-sdk.ts [--out DIR] [--pack [DIR]]
 *
 * Layout inside the package: `dist/client/…` (the SDK, entry `dist/client/index.js`,
 * Node transports under `dist/client/node/`) beside `dist/codec.js`, `dist/keys.js`…,
 * mirroring `shared/`. tsc keeps the sources' extensionless relative imports, which
 * Node's ESM loader refuses, so every relative specifier in the output (.js and
 * .d.ts) is rewritten to the file it names (`./x` → `./x.js` or `./x/index.js`).
 * The build fails when the browser entry reaches anything but its own files
 * (a Node module, `ws`), or when tsc reports an error.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sdk = join(root, 'shared', 'client');
/** The package's entry points, by export subpath. */
const entries = {
  '.': 'index.ts',
  './node': 'node/index.ts',
  './node/socket': 'node/socket-transport.ts',
  './node/ws': 'node/ws-transport.ts',
} as const;

export interface BuiltSdk {
  /** The package folder (package.json, README.md, dist/). */
  dir: string;
  name: string;
  version: string;
  /** Package-relative paths of the files the browser entry loads. */
  browserFiles: string[];
}

function tscBinary(): string {
  return createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
}

/** Every file under `dir`, recursively. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}

/** Static and dynamic import/export specifiers of an ES module or declaration file. */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"\n]+)\2/g;

/** `./x` → `./x.js` or `./x/index.js`, whichever exists next to `file` (for a `.d.ts` file: its declaration). */
function withExtension(file: string, specifier: string): string {
  if (!specifier.startsWith('.') || /\.(js|mjs|json)$/.test(specifier)) return specifier;
  const base = resolve(dirname(file), specifier);
  if (existsSync(`${base}.js`)) return `${specifier}.js`;
  if (existsSync(join(base, 'index.js'))) return `${specifier}/index.js`;
  throw new Error(`${relative(root, file)}: cannot resolve '${specifier}' in the build output`);
}

function rewriteSpecifiers(dir: string): void {
  for (const file of walk(dir).filter((path) => path.endsWith('.js') || path.endsWith('.d.ts'))) {
    const text = readFileSync(file, 'utf8');
    const rewritten = text.replace(SPECIFIER, (_match, head: string, quote: string, specifier: string) => `${head}${quote}${withExtension(file, specifier)}${quote}`);
    if (rewritten !== text) writeFileSync(file, rewritten);
  }
}

/** The files `entry` loads, transitively; throws on any import that is not a file of the package. */
function browserGraph(entry: string, packageDir: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, , , specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      if (!specifier!.startsWith('.')) throw new Error(`the browser entry must not load '${specifier}' (from ${relative(packageDir, file)})`);
      visit(resolve(dirname(file), specifier!));
    }
  };
  visit(entry);
  return [...seen].map((file) => relative(packageDir, file)).sort();
}

/** Compiles the SDK into `outDir` (emptied first) as a package folder. */
export function buildSdk(outDir = join(root, 'dist', 'jmqt-client')): BuiltSdk {
  const manifest = JSON.parse(readFileSync(join(sdk, 'package.json'), 'utf8')) as { name: string; version: string };
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'jmqt-sdk-build-'));
  try {
    const tsconfig = join(work, 'tsconfig.json');
    writeFileSync(tsconfig, JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'bundler',
        lib: ['ES2023', 'DOM'],
        strict: true,
        isolatedModules: true,
        esModuleInterop: true,
        skipLibCheck: true,
        forceConsistentCasingInFileNames: true,
        importHelpers: false,
        declaration: true,
        noEmitOnError: true,
        rootDir: join(root, 'shared'),
        outDir: join(outDir, 'dist'),
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
      },
      files: Object.values(entries).map((entry) => join(sdk, entry)),
    }, null, 2));
    execFileSync(process.execPath, [tscBinary(), '-p', tsconfig], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const output = (error as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`tsc failed building the SDK:\n${output || (error as Error).message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const dist = join(outDir, 'dist');
  if (walk(dist).some((file) => file.includes('.test.'))) throw new Error('a test file reached the SDK build');
  rewriteSpecifiers(dist);
  for (const [subpath, entry] of Object.entries(entries)) {
    const js = join(dist, 'client', entry.replace(/\.ts$/, '.js'));
    if (!existsSync(js) || !existsSync(js.replace(/\.js$/, '.d.ts'))) throw new Error(`export ${subpath}: ${relative(outDir, js)} or its declarations were not built`);
  }
  const browserFiles = browserGraph(join(dist, 'client', 'index.js'), outDir);
  copyFileSync(join(sdk, 'package.json'), join(outDir, 'package.json'));
  copyFileSync(join(sdk, 'README.md'), join(outDir, 'README.md'));
  return { dir: outDir, name: manifest.name, version: manifest.version, browserFiles };
}

/** `npm pack` of a built package folder into `destination`; answers the tarball's path. */
export function packSdk(built: BuiltSdk, destination: string): string {
  mkdirSync(destination, { recursive: true });
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: built.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false' },
  });
  const [info] = JSON.parse(output) as Array<{ filename: string }>;
  const tarball = join(destination, info!.filename);
  if (!statSync(tarball).isFile()) throw new Error(`npm pack wrote no ${tarball}`);
  return tarball;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, pack: { type: 'boolean', default: false }, 'pack-destination': { type: 'string' } } });
  const built = buildSdk(values.out ? resolve(values.out) : undefined);
  process.stdout.write(`built ${built.name}@${built.version} in ${relative(process.cwd(), built.dir) || '.'} (browser entry: ${built.browserFiles.length} files, no Node modules)\n`);
  if (values.pack) {
    const tarball = packSdk(built, resolve(values['pack-destination'] ?? dirname(built.dir)));
    process.stdout.write(`${tarball}\n`);
  }
}
