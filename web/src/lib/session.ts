// The signed-in session: tokens and user, kept in localStorage so a reload (or a second tab) stays signed in.
// A tiny external store, so the API client (outside React) and components read the same value.
import type { components } from "../api/schema";

export type User = components["schemas"]["UserOut"];
export type Role = components["schemas"]["Role"];
export type AuthResponse = components["schemas"]["AuthResponse"];

export interface Session {
  token: string;
  refreshToken: string;
  /** epoch ms when the access token expires */
  expiresAt: number;
  user: User;
}

const KEY = "crm.session";
let current: Session | null = read();
let expired = false;
const listeners = new Set<() => void>();

function read(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function emit(): void {
  for (const listener of listeners) listener();
}

export function getSession(): Session | null {
  return current;
}

/** True once a session ended by itself (refresh refused), until the next sign-in. */
export function sessionExpired(): boolean {
  return expired;
}

export function sessionFromAuth(auth: AuthResponse, now = Date.now()): Session {
  return { token: auth.token, refreshToken: auth.refreshToken, expiresAt: now + auth.expiresIn * 1000, user: auth.user };
}

export function setSession(session: Session | null, options: { expired?: boolean } = {}): void {
  current = session;
  expired = session === null && Boolean(options.expired);
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
  emit();
}

/** The latest stored session: another tab may have refreshed the tokens since we read them. */
export function reloadSession(): Session | null {
  current = read();
  return current;
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.key === KEY) {
      current = read();
      emit();
    }
  });
}
