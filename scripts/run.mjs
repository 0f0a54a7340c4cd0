// Small helpers shared by start.mjs, build.mjs and test.mjs.
import { spawn } from 'node:child_process';

/**
 * Run a command with inherited output streamed through, also captured for summaries.
 * Resolves to { code, output }.
 */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let output = '';
    const onData = (stream) => (buf) => {
      output += buf.toString();
      stream.write(buf);
    };
    child.stdout.on('data', onData(process.stdout));
    child.stderr.on('data', onData(process.stderr));
    child.on('error', (e) => resolve({ code: 127, output: `${output}\n${e.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Run or exit with the command's status. */
export async function must(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed with status ${r.code}`);
    process.exit(r.code);
  }
  return r;
}

export const vite = ['node_modules/vite/bin/vite.js'];
