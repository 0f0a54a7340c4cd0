import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  // The dev server pre-bundles dependencies into one file, which would move the package's
  // worker and wasm away from the URLs its code computes; serve it as it is instead.
  optimizeDeps: { exclude: ['marginalia'] },
});
