import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// The app is static files: Vite bundles the TypeScript, copies the wasm that
// wasm-bindgen generated (www/pkg, built by scripts/build-wasm.sh) and serves datasets/
// as the public folder so the built-in demo loads from the same origin.
export default defineConfig({
  root: resolve(import.meta.dirname, 'www'),
  publicDir: resolve(import.meta.dirname, 'datasets'),
  base: './',
  build: {
    outDir: resolve(import.meta.dirname, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: {
        app: resolve(import.meta.dirname, 'www/index.html'),
        // The teaching demo (www/playground), built from the npm package's source.
        playground: resolve(import.meta.dirname, 'www/playground/index.html'),
      },
    },
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: Number(process.env.PORT ?? 5173), strictPort: true },
  preview: { host: '127.0.0.1', port: Number(process.env.PORT ?? 5173), strictPort: true },
  test: {
    root: resolve(import.meta.dirname),
    include: ['tests/unit/**/*.test.ts'],
  },
});
