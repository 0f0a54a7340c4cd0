import { defineConfig, type Plugin } from 'vite';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative, resolve } from 'node:path';

const dist = resolve(import.meta.dirname, 'dist');

/**
 * The npm package by its name, for the app and the playground: one alias per subpath the
 * package's package.json exports (its built `./lib/x.js` is the source `www/lib/x.ts`), so
 * only what a user of the package can import resolves.
 */
function packageAliases(): { find: RegExp; replacement: string }[] {
  const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, 'www/lib/package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, string | { default: string }>;
  };
  return Object.entries(pkg.exports)
    .filter(([, target]) => typeof target === 'object' && target.default.endsWith('.js'))
    .map(([sub, target]) => ({
      find: new RegExp(`^${pkg.name}${sub === '.' ? '' : sub.slice(1)}$`),
      replacement: resolve(import.meta.dirname, 'www', (target as { default: string }).default.replace(/^\.\//, '').replace(/\.js$/, '.ts')),
    }));
}

/**
 * After the build, write the list of built files into dist/sw.js (the service worker
 * precaches them for offline use) with a hash of that list, so every build installs a
 * new worker with a fresh cache.
 */
function precacheList(): Plugin {
  return {
    name: 'marginalia-precache',
    apply: 'build',
    closeBundle() {
      const walk = (d: string): string[] =>
        readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
      const files = walk(dist)
        .map((f) => relative(dist, f).split('\\').join('/'))
        // The weights are not precached: they are fetched when a project first needs them
        // (never on the first page load) and kept by the service worker from then on.
        .filter((f) => f !== 'sw.js' && !f.startsWith('.') && !f.startsWith('weights/'))
        .map((f) => `./${f}`)
        .sort();
      const sw = join(dist, 'sw.js');
      const hash = createHash('sha256');
      for (const f of files) hash.update(f).update(readFileSync(join(dist, f)));
      const code = readFileSync(sw, 'utf8')
        .replace('__MARGINALIA_PRECACHE__', JSON.stringify(files).replace(/\\/g, '\\\\').replace(/'/g, "\\'"))
        .replace('__MARGINALIA_BUILD__', hash.digest('hex').slice(0, 16));
      writeFileSync(sw, code);
    },
  };
}

/**
 * The pretrained weights (weights/*.safetensors) under ./weights/ of the app: served by the
 * dev server, copied into dist/ by the build.
 */
function weightFiles(): Plugin {
  const src = resolve(import.meta.dirname, 'weights');
  const files = () => readdirSync(src).filter((f) => f.endsWith('.safetensors'));
  return {
    name: 'marginalia-weights',
    configureServer(server) {
      server.middlewares.use('/weights', (req, res, next) => {
        const name = (req.url ?? '').replace(/^\//, '').split('?')[0];
        if (!files().includes(name)) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(readFileSync(join(src, name)));
      });
    },
    writeBundle() {
      mkdirSync(join(dist, 'weights'), { recursive: true });
      for (const f of files()) copyFileSync(join(src, f), join(dist, 'weights', f));
    },
  };
}

// The app is static files: Vite bundles the TypeScript, copies the wasm that
// wasm-bindgen generated (www/pkg, built by scripts/build-wasm.sh) and serves datasets/
// as the public folder so the built-in demo loads from the same origin.
export default defineConfig({
  root: resolve(import.meta.dirname, 'www'),
  publicDir: resolve(import.meta.dirname, 'datasets'),
  base: './',
  plugins: [weightFiles(), precacheList()],
  resolve: { alias: packageAliases() },
  build: {
    outDir: dist,
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: {
        app: resolve(import.meta.dirname, 'www/index.html'),
        // The teaching demo (www/playground), built from the npm package's source.
        playground: resolve(import.meta.dirname, 'www/playground/index.html'),
        sw: resolve(import.meta.dirname, 'www/sw.ts'),
      },
      // The service worker must keep a fixed name at the root (its scope is its folder).
      output: { entryFileNames: (c) => (c.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js') },
    },
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: Number(process.env.PORT ?? 5173), strictPort: true },
  preview: { host: '127.0.0.1', port: Number(process.env.PORT ?? 5173), strictPort: true },
  test: {
    root: resolve(import.meta.dirname),
    include: ['tests/unit/**/*.test.{ts,mjs}'],
  },
});
