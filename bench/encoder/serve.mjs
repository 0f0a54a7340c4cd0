// What the encoder benchmarks share: the static server (the repository's files on
// 127.0.0.1, with cross-origin isolation: onnxruntime-web's threads need SharedArrayBuffer)
// and the renderer's resident memory.
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

const TYPES = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

export async function serveIsolated(root) {
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!path.startsWith(root) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    createReadStream(path).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/**
 * Resident memory (bytes) of the Chromium renderer processes this process launched (through
 * playwright): the renderer holds the page and its workers. 0 when `ps` cannot tell.
 */
export function rendererMemory() {
  try {
    const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .map(([p, pp, r, ...a]) => ({ pid: Number(p), ppid: Number(pp), rss: Number(r) * 1024, args: a.join(' ') }));
    // The browser is a child of this process; its renderers are among its descendants
    // (zygote children included).
    const mine = new Set(rows.filter((r) => r.ppid === process.pid && /chrom/.test(r.args)).map((r) => r.pid));
    for (let grew = true; grew; ) {
      grew = false;
      for (const r of rows) if (!mine.has(r.pid) && mine.has(r.ppid)) grew = mine.add(r.pid) && true;
    }
    return rows.filter((r) => mine.has(r.pid) && /--type=renderer/.test(r.args)).reduce((a, r) => a + r.rss, 0);
  } catch {
    return 0;
  }
}
