// Shared set-up for the end-to-end tests: serve the built app (dist/) with `vite preview`
// on a free 127.0.0.1 port, launch Debian's Chromium through playwright-core with a fresh
// profile, and record every request the page makes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Start `vite preview` on dist/; resolves to { url, stop }. */
export async function serve() {
  const port = await freePort();
  const proc = spawn(process.execPath, ['node_modules/vite/bin/vite.js', 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      proc.kill();
      throw new Error(`vite preview did not answer on ${url} within 30 s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop: () => proc.kill() };
}

/**
 * Launch Chromium with a persistent fresh profile (so IndexedDB survives a reload), and
 * record every request URL in `requests`. `webgpu: false` leaves out the flag that gives
 * headless Chromium here its (SwiftShader) WebGPU adapter: `requestAdapter()` is then null.
 */
export async function launch({ serviceWorkers = 'allow', webgpu = true } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'marginalia-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: webgpu ? CHROMIUM_ARGS : CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'),
    viewport: { width: 1100, height: 800 },
    // 'block' where a test reroutes requests: the offline cache would answer them first.
    serviceWorkers,
    acceptDownloads: true,
  });
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  const consoleErrors = [];
  context.on('page', (p) => p.on('pageerror', (e) => consoleErrors.push(String(e))));
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  return {
    context,
    page,
    /** The profile folder (on the browser's command line: how a benchmark finds its processes). */
    profile,
    requests,
    consoleErrors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** True when a URL stays on this machine's loopback (or is page-internal). */
export function isLocal(url) {
  if (url.startsWith('data:') || url.startsWith('blob:')) return true;
  const u = new URL(url);
  return u.hostname === '127.0.0.1';
}

/** Wait until the labeller shows a sample, and return its id. */
export async function currentSample(page) {
  await page.waitForFunction(() => document.getElementById('labeler')?.dataset.sampleId, null, { timeout: 60_000 });
  return Number(await page.getAttribute('#labeler', 'data-sample-id'));
}

/**
 * Press `key` and wait for the labeller to show another sample; returns the id that was
 * on screen. `failOnAlert`: fail at once with the app's alert text if one shows (instead
 * of timing out), for flows where no alert is expected.
 */
export async function pressForNext(page, key, { failOnAlert = false } = {}) {
  const before = await currentSample(page);
  await page.keyboard.press(key);
  await page.waitForFunction(
    ([b, strict]) => {
      const alert = document.getElementById('alert');
      if (strict && alert && !alert.hidden) throw new Error(alert.textContent);
      const id = document.getElementById('labeler')?.dataset.sampleId;
      return id && id !== String(b);
    },
    [before, failOnAlert],
  );
  return before;
}

/** Poll `cond` (async, run here) until it holds; fail with `what` after `ms`. */
export async function until(cond, what, ms = 60_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
