// Nothing marginalia-specific: webpack 5 bundles the package's worker
// (new Worker(new URL(..., import.meta.url))) and emits its .wasm files as assets by itself.
const path = require('node:path');
const { readFileSync, mkdirSync, writeFileSync } = require('node:fs');

module.exports = {
  mode: 'production',
  entry: './src/index.js',
  output: { path: path.resolve(__dirname, 'dist'), clean: true },
  plugins: [
    {
      // Copy the page next to the bundle (no html plugin needed for one static file).
      apply: (compiler) =>
        compiler.hooks.afterEmit.tap('copy-index', () => {
          mkdirSync(compiler.outputPath, { recursive: true });
          writeFileSync(path.join(compiler.outputPath, 'index.html'), readFileSync(path.join(__dirname, 'public/index.html')));
        }),
    },
  ],
};
