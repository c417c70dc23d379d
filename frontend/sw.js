// The volunteers' pages without signal (a stairwell, a basement): this service worker keeps the
// volunteers' bundle, the batches and the claimed batch's manifest as last fetched, and answers
// from them when the network does not. Everything else passes by untouched. Steps taken without
// signal are kept by the page itself (`fxs_outbox`) and sent when the phone is back; the server
// takes the same step twice as once. Registered only by the volunteers' pages.
const CACHE = "fxs-volunteer-1";

// What is kept: the volunteers' pages and their bundle, and the reads they make.
const KEPT = [
  /^\/volunteer(\/|$)/,
  /^\/style\.css$/,
  /^\/pkg\/workers(\.js|_bg\.wasm)$/,
  /^\/api\/v1\/batches(\/|$|\?)/,
  /^\/api\/v1\/me$/,
  /^\/api\/v1\/me\/volunteer-hours$/,
  /^\/api\/v1\/slots(\?|$)/,
];

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // A logout forgets what was kept (a manifest holds doors and phones).
  if (request.method === "POST" && url.pathname === "/api/v1/auth/logout") {
    // Photos at the door still waiting for signal (the page keeps them) go too.
    event.waitUntil(Promise.all([caches.delete(CACHE), caches.delete("fxs-door-photos")]));
    return;
  }
  if (request.method !== "GET" || !KEPT.some((k) => k.test(url.pathname + url.search))) return;
  // A page is kept once for all its addresses' queries.
  const key = request.mode === "navigate" ? url.origin + url.pathname : request.url;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)));
        }
        return response;
      })
      .catch(() => caches.open(CACHE).then((cache) => cache.match(key)).then((kept) => kept || Response.error())),
  );
});
