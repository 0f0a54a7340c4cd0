// The service worker: offline after the first visit. It precaches every file of the build
// (the list is written into this file at build time by vite.config.ts, so each build gives
// a new worker and a fresh cache) and answers same-origin GETs from the cache first.
// It never fetches anything from another origin (the page's CSP forbids that anyway).
// The project's tsconfig mixes DOM and WebWorker types: name the worker scope explicitly.
const sw = self as unknown as ServiceWorkerGlobalScope;

// Replaced at build time with the JSON list of files in dist/ (see vite.config.ts).
const PRECACHE: string[] = JSON.parse('__MARGINALIA_PRECACHE__');
const CACHE = `marginalia-${'__MARGINALIA_BUILD__'}`;
// Pretrained weights: cached on first use, kept across builds (9.3 MB that rarely change;
// the page checks their sha256 and drops a damaged copy). Same name as WEIGHTS_CACHE in
// www/app/encoder-pool.ts.
const WEIGHTS_CACHE = 'marginalia-weights';

sw.addEventListener('install', (ev: ExtendableEvent) => {
  ev.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(['./', ...PRECACHE]);
      await sw.skipWaiting();
    })(),
  );
});

sw.addEventListener('activate', (ev: ExtendableEvent) => {
  ev.waitUntil(
    (async () => {
      for (const k of await caches.keys()) if (k.startsWith('marginalia-') && k !== CACHE && k !== WEIGHTS_CACHE) await caches.delete(k);
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('fetch', (ev: FetchEvent) => {
  const req = ev.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== sw.location.origin) return;
  if (new URL(req.url).pathname.includes('/weights/')) {
    ev.respondWith(
      (async () => {
        const cache = await caches.open(WEIGHTS_CACHE);
        const hit = await cache.match(req, { ignoreVary: true });
        if (hit) return hit;
        const res = await fetch(req);
        if (res.ok) await cache.put(req, res.clone());
        return res;
      })(),
    );
    return;
  }
  ev.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      // Navigations are answered with the page itself (query strings ignored). Vary is
      // ignored: static servers send `Vary: Origin`, and module scripts carry an Origin
      // header that the precache requests did not, which would otherwise never match.
      const hit = await cache.match(req, { ignoreSearch: req.mode === 'navigate', ignoreVary: true });
      if (hit) return hit;
      return fetch(req);
    })(),
  );
});
