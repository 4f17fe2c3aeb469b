// Sign in, register, sign out, and the hooks screens use to know who is signed in.
import { useSyncExternalStore } from "react";
import { api, call } from "./api";
import { getSession, sessionExpired, sessionFromAuth, setSession, subscribe, type Session } from "./session";
import type { components } from "../api/schema";

export type RegisterInput = components["schemas"]["RegisterRequest"];
export type LoginInput = components["schemas"]["LoginRequest"];

export function useSession(): Session | null {
  return useSyncExternalStore(subscribe, getSession, getSession);
}

export function useSessionExpired(): boolean {
  return useSyncExternalStore(subscribe, sessionExpired, sessionExpired);
}

export async function signIn(input: LoginInput): Promise<Session> {
  const auth = await call(() => api.POST("/api/auth/login", { body: input }));
  const session = sessionFromAuth(auth);
  setSession(session);
  return session;
}

export async function register(input: RegisterInput): Promise<Session> {
  const auth = await call(() => api.POST("/api/auth/register", { body: input }));
  const session = sessionFromAuth(auth);
  setSession(session);
  return session;
}

export async function signOut(): Promise<void> {
  const session = getSession();
  try {
    if (session) {
      await api.POST("/api/auth/logout", { headers: { Authorization: `Bearer ${session.token}` } });
    }
  } catch {
    // signing out locally is what matters; the token expires on its own
  } finally {
    setSession(null);
  }
}
