// Build everything the static site needs: the wasm (scalar + SIMD) and the front end.
import { must, vite } from './run.mjs';

export async function build() {
  await must('bash', ['scripts/build-wasm.sh']);
  await must(process.execPath, [...vite, 'build', '--logLevel', 'warn']);
}

if (import.meta.url === `file://${process.argv[1]}`) await build();
