// The live stream (GET /api/stream, SSE with the bearer token): each event invalidates the TanStack Query
// caches it changes, so open screens refetch without a reload. Reconnects with Last-Event-ID after a drop or
// when the stream ends at the token's expiry (the token is refreshed first), so nothing is missed or doubled.
import type { QueryClient, QueryKey } from "@tanstack/react-query";
import { useEffect, useSyncExternalStore } from "react";
import { accessToken, baseUrl, refreshTokens, transport } from "./api";
import { getSession } from "./session";
import { readSse } from "./sse";

export interface LiveEvent {
  id: string;
  type: string;
  source?: string;
  time?: string;
  subject?: string;
  data: Record<string, unknown>;
}

/**
 * Which caches an event makes stale. Unknown types change nothing. Keys are prefixes (see the screens).
 * "timeline" (a customer's story) and "reports" are analytics' read models: every event naming a customer is
 * a line of its timeline, written by analytics a moment after the event, so both are refetched throttled.
 */
export const INVALIDATES: Record<string, QueryKey[]> = {
  USER_CREATED: [["users"], ["customers"]],
  USER_UPDATED: [["users"], ["me"]],
  USER_DELETED: [["users"], ["customers"], ["tasks"], ["meetings"], ["approvals"]],
  CUSTOMER_CREATED: [["customers"], ["dashboard"], ["reports"], ["timeline"]],
  CUSTOMER_UPDATED: [["customers"], ["reports"], ["timeline"]],
  CUSTOMER_DELETED: [["customers"], ["tasks"], ["meetings"], ["approvals"], ["dashboard"], ["reports"], ["timeline"]],
  CUSTOMER_RESTORED: [["customers"], ["tasks"], ["meetings"], ["dashboard"], ["reports"], ["timeline"]],
  MEETING_CREATED: [["meetings"], ["customers"], ["dashboard"], ["opportunities"], ["timeline"]],
  MEETING_UPDATED: [["meetings"], ["dashboard"], ["timeline"]],
  TASK_CREATED: [["tasks"], ["customers"], ["dashboard"], ["opportunities"], ["reports"], ["timeline"]],
  TASK_UPDATED: [["tasks"], ["dashboard"], ["reports"], ["timeline"]],
  TASK_COMPLETED: [["tasks"], ["dashboard"], ["reports"], ["timeline"]],
  OPPORTUNITY_CREATED: [["opportunities"], ["customers"], ["dashboard"], ["reports"], ["timeline"]],
  OPPORTUNITY_STAGE_CHANGED: [["opportunities"], ["dashboard"], ["reports"], ["timeline"]],
  APPROVAL_REQUESTED: [["approvals"], ["notifications"], ["reports"], ["timeline"]],
  APPROVAL_STATUS_CHANGED: [["approvals"], ["notifications"], ["tasks"], ["dashboard"], ["reports"], ["timeline"]],
  TASK_DUE_SOON: [["notifications"], ["tasks"]],
  APPROVAL_RESULT: [["approvals"], ["notifications"], ["tasks"]],
};

// Notifications are stored by analytics from the same events: ask again a moment later, once it has.
const NOTIFICATION_EVENTS = new Set(["TASK_DUE_SOON", "APPROVAL_RESULT", "APPROVAL_STATUS_CHANGED", "APPROVAL_REQUESTED"]);

/**
 * Caches refreshed at most once per this many ms, that long after the first event of a burst. The reports are
 * analytics' read models, built from these same events a moment later; an import or a bulk change then
 * refetches them once, not once per event.
 */
export const THROTTLED_MS: Record<string, number> = { reports: 2000, timeline: 1500 };
const scheduled = new WeakMap<QueryClient, Set<string>>();

function invalidateSoon(client: QueryClient, key: QueryKey, wait: number): void {
  const name = JSON.stringify(key);
  let waiting = scheduled.get(client);
  if (!waiting) scheduled.set(client, (waiting = new Set()));
  if (waiting.has(name)) return; // the refetch already planned covers this event too
  waiting.add(name);
  setTimeout(() => {
    waiting.delete(name);
    void client.invalidateQueries({ queryKey: key });
  }, wait);
}

export function applyEvent(client: QueryClient, event: LiveEvent): void {
  for (const key of INVALIDATES[event.type] ?? []) {
    const wait = THROTTLED_MS[String(key[0])];
    if (wait === undefined) void client.invalidateQueries({ queryKey: key });
    else invalidateSoon(client, key, wait);
  }
  if (NOTIFICATION_EVENTS.has(event.type)) {
    setTimeout(() => void client.invalidateQueries({ queryKey: ["notifications"] }), 1500);
  }
}

export type LiveState = "idle" | "connecting" | "open" | "retrying";
let state: LiveState = "idle";
const listeners = new Set<() => void>();
function setState(next: LiveState): void {
  if (state !== next) {
    state = next;
    for (const l of listeners) l();
  }
}
export function useLiveState(): LiveState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
    () => state,
  );
}

type Listener = (event: LiveEvent) => void;
const eventListeners = new Set<Listener>();
/** Screens that want the events themselves (a toast, a highlight) subscribe here. */
export function onLiveEvent(listener: Listener): () => void {
  eventListeners.add(listener);
  return () => eventListeners.delete(listener);
}

export interface StreamOptions {
  client: QueryClient;
  signal: AbortSignal;
  fetch?: typeof fetch;
  /** ms to wait before reconnect attempt n (1-based) */
  backoff?: (attempt: number) => number;
}

/** Runs until `signal` aborts: connect, read, reconnect from the last id. */
export async function runStream({ client, signal, fetch: fetchImpl = transport(), backoff = defaultBackoff }: StreamOptions) {
  let lastId: string | undefined;
  let attempt = 0;
  while (!signal.aborted) {
    setState(attempt === 0 ? "connecting" : "retrying");
    try {
      const token = await accessToken();
      if (!token) return;
      const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: "text/event-stream" };
      if (lastId) headers["Last-Event-ID"] = lastId;
      const response = await fetchImpl(`${baseUrl}/api/stream`, { headers, signal, cache: "no-store" });
      if (response.status === 401) {
        // Expired or revoked before its time (a logout elsewhere): renew it; a refused refresh ends the
        // session, and the loop with it (accessToken() is then null).
        attempt += 1;
        const session = getSession();
        if (session) await refreshTokens(session.refreshToken);
        continue;
      } else if (!response.ok) {
        throw new Error(`stream answered ${response.status}`);
      } else {
        let ready = false;
        const resumed = lastId !== undefined;
        await readSse(response, (message) => {
          if (message.id) lastId = message.id;
          if (message.event === "ready") {
            ready = true;
            attempt = 0;
            setState("open");
            // A fresh stream starts at "now": what changed between the screens' first loads and this moment
            // came on no stream, so load the open screens once more. A resumed stream replays from its cursor.
            if (!resumed) void client.invalidateQueries();
            return;
          }
          let event: LiveEvent;
          try {
            event = JSON.parse(message.data) as LiveEvent;
          } catch {
            return;
          }
          if (!event.type) event.type = message.event;
          applyEvent(client, event);
          for (const l of eventListeners) l(event);
        });
        // The stream ended (the token expired, or the server restarted): resume at once with a fresh token.
        if (ready) continue;
        attempt += 1;
      }
    } catch (error) {
      if (signal.aborted) break;
      attempt += 1;
      setState("retrying");
      if (import.meta.env.DEV && import.meta.env.MODE !== "test") console.warn("live stream:", error);
    }
    await sleep(backoff(Math.max(attempt, 1)), signal);
  }
  setState("idle");
}

function defaultBackoff(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
}

/** Waits `ms`, or less: until the signal aborts or the browser comes back online (reconnect at once). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      if (typeof window !== "undefined") window.removeEventListener("online", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
    if (typeof window !== "undefined") window.addEventListener("online", done);
  });
}

/** Keeps the stream open while someone is signed in. */
export function useLiveStream(client: QueryClient, userId: string | undefined): void {
  useEffect(() => {
    if (!userId) return;
    const controller = new AbortController();
    void runStream({ client, signal: controller.signal });
    return () => controller.abort();
  }, [client, userId]);
}
