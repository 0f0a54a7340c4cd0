// `npm start`: set up if needed, build, and serve the app on 127.0.0.1:$PORT (5173).
import { spawn } from 'node:child_process';
import { must, vite } from './run.mjs';
import { build } from './build.mjs';

await must('bash', ['scripts/setup']);
await build();
const port = process.env.PORT ?? '5173';
const server = spawn(process.execPath, [...vite, 'preview', '--host', '127.0.0.1', '--port', port, '--strictPort'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let announced = false;
server.stdout.on('data', (buf) => {
  if (!announced && /Local/.test(buf.toString())) {
    announced = true;
    console.log(`\nMarginalia is running at http://127.0.0.1:${port}/  (Ctrl+C stops it)\n`);
  }
});
server.on('close', (code) => process.exit(code ?? 0));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.kill(sig));
