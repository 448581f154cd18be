/**
 * Keeps the door page usable without network: a service worker (web/public/check-in-sw.js, scope /app/check-in/)
 * answers the page from its cache when the network is down, and this fills that cache with what the page is made
 * of right now. Files loaded later (the camera's) are cached by the worker as they pass through it.
 */
const CACHE = 'check-in-v1';
/** The page itself: every /app/ path is the same index.html. */
const SHELL = '/app/check-in/';

/** Resolves true once the page and its files are cached and its service worker is active: a reload works offline. */
export async function cacheForOffline(): Promise<boolean> {
  if (!('serviceWorker' in navigator) || !('caches' in window)) return false;
  try {
    await navigator.serviceWorker.register('/app/check-in-sw.js', { scope: SHELL });
    const assets = performance
      .getEntriesByType('resource')
      .map((entry) => new URL(entry.name))
      .filter((url) => url.origin === location.origin && url.pathname.startsWith('/app/assets/'))
      .map((url) => url.pathname);
    const cache = await caches.open(CACHE);
    await cache.addAll([SHELL, ...new Set(assets)]);
    await navigator.serviceWorker.ready;
    return true;
  } catch {
    // No service worker (a private window, an old browser): the page works online as usual.
    return false;
  }
}
