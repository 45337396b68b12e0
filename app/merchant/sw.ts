/// <reference lib="webworker" />
import { type PrecacheEntry, Serwist } from "serwist";
import { pushOutbox } from "./device-sync";

declare global {
  interface WorkerGlobalScope {
    __SW_MANIFEST: (PrecacheEntry | string)[] | undefined;
  }
}
declare const self: ServiceWorkerGlobalScope;

/**
 * The counter app's service worker: precaches the app shell (its HTML and every static
 * chunk) so /merchant opens with no network after one visit. Data lives in IndexedDB, not
 * in HTTP caches; API calls always go to the network.
 */
const serwist = new Serwist({
  precacheEntries: self.__SW_MANIFEST,
  precacheOptions: { ignoreURLParametersMatching: [/.*/] },
  skipWaiting: true,
  clientsClaim: true,
  navigationPreload: false,
});

serwist.addEventListeners();

/** Background Sync, where the browser has it: push redemptions even with the app closed. */
self.addEventListener("sync", (event) => {
  const sync = event as Event & { tag: string; waitUntil(p: Promise<unknown>): void };
  if (sync.tag === "dealdrop-redemptions") {
    sync.waitUntil(
      pushOutbox().then((problem) => {
        if (problem?.kind === "offline") throw new Error(problem.message);
      }),
    );
  }
});
