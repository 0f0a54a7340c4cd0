// Build the npm package `marginalia` from www/lib (TypeScript) and www/pkg (the wasm and
// its wasm-bindgen glue, built by scripts/build-wasm.sh) into target/npm/marginalia:
//   package.json, README.md, lib/**.js + .d.ts, pkg/{scalar,simd}/marginalia{.js,.d.ts,_bg.wasm}
// `--pack` also runs `npm pack` and prints the tarball's path; `--docs` writes the API
// reference (TypeDoc) to target/npm/api.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { must } from './run.mjs';

const root = resolve(import.meta.dirname, '..');
export const PACKAGE_DIR = join(root, 'target/npm/marginalia');

export async function buildPackage() {
  for (const v of ['scalar', 'simd']) {
    if (!existsSync(join(root, `www/pkg/${v}/marginalia_bg.wasm`))) {
      console.error(`www/pkg/${v} is missing: run scripts/build-wasm.sh (or node scripts/build.mjs) first`);
      process.exit(1);
    }
  }
  rmSync(PACKAGE_DIR, { recursive: true, force: true });
  await must(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'www/lib/tsconfig.json'), '--outDir', join(PACKAGE_DIR, 'lib')]);
  for (const v of ['scalar', 'simd']) {
    mkdirSync(join(PACKAGE_DIR, 'pkg', v), { recursive: true });
    for (const f of ['marginalia.js', 'marginalia.d.ts', 'marginalia_bg.wasm', 'marginalia_bg.wasm.d.ts']) {
      copyFileSync(join(root, 'www/pkg', v, f), join(PACKAGE_DIR, 'pkg', v, f));
    }
  }
  // The pretrained image encoder's weights (fetched by marginalia/encoder only when used)
  // and the notice that carries their licence and attribution.
  mkdirSync(join(PACKAGE_DIR, 'weights'), { recursive: true });
  copyFileSync(join(root, 'weights/efficientnet-lite0.f16.safetensors'), join(PACKAGE_DIR, 'weights/efficientnet-lite0.f16.safetensors'));
  copyFileSync(join(root, 'NOTICE'), join(PACKAGE_DIR, 'NOTICE'));
  copyFileSync(join(root, 'www/lib/package.json'), join(PACKAGE_DIR, 'package.json'));
  copyFileSync(join(root, 'www/lib/README.md'), join(PACKAGE_DIR, 'README.md'));
  return PACKAGE_DIR;
}

/** `npm pack` the built package into target/npm; resolves to the tarball's path. */
export async function packPackage() {
  const r = await must('npm', ['pack', '--silent', '--pack-destination', join(root, 'target/npm'), PACKAGE_DIR], { cwd: root });
  const name = r.output.trim().split('\n').at(-1);
  return join(root, 'target/npm', name);
}

export async function buildDocs() {
  await must(process.execPath, [
    join(root, 'node_modules/typedoc/bin/typedoc'),
    '--tsconfig', join(root, 'www/lib/tsconfig.json'),
    '--entryPoints', join(root, 'www/lib/index.ts'),
    '--entryPoints', join(root, 'www/lib/store/index.ts'),
    '--entryPoints', join(root, 'www/lib/labeler.ts'),
    '--entryPoints', join(root, 'www/lib/encoder.ts'),
    '--readme', join(root, 'www/lib/README.md'),
    '--name', 'marginalia',
    '--out', join(root, 'target/npm/api'),
    '--excludeInternal',
    // No links to source files: they depend on the clone's git remote (none, a local
    // path, or a URL), which made the docs build warn or not depending on the checkout.
    '--disableSources',
    '--treatWarningsAsErrors',
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildPackage();
  console.log(`package: ${PACKAGE_DIR}`);
  if (process.argv.includes('--pack')) console.log(`tarball: ${await packPackage()}`);
  if (process.argv.includes('--docs')) await buildDocs();
}
