// The typed API client (openapi-fetch over the generated schema). Every call goes through `call()`, which
// adds the access token, refreshes it once when it is about to expire or the server answers 401, and turns
// failures into ApiError / NetworkError so screens show them the same way.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "../api/schema";
import { ApiError, NetworkError } from "./errors";
import { getSession, reloadSession, sessionFromAuth, setSession, type AuthResponse } from "./session";

const REFRESH_MARGIN_MS = 30_000;

let fetchImpl: typeof fetch = (...args) => globalThis.fetch(...args);

/** Tests swap the transport. */
export function setFetch(impl: typeof fetch): void {
  fetchImpl = impl;
}

/** The transport every call uses (the live stream too). */
export function transport(): typeof fetch {
  return fetchImpl;
}

export const baseUrl = typeof window !== "undefined" ? window.location.origin : "http://localhost";

export const api = createClient<paths>({ baseUrl, fetch: (request) => fetchImpl(request) });

const authMiddleware: Middleware = {
  async onRequest({ request }) {
    if (request.headers.has("Authorization") || isPublic(new URL(request.url).pathname)) return request;
    const token = await accessToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
};
api.use(authMiddleware);

function isPublic(path: string): boolean {
  return ["/api/auth/login", "/api/auth/register", "/api/auth/refresh"].includes(path);
}

let refreshing: Promise<string | null> | null = null;

/** A valid access token, refreshed first when it expires within 30 s; null when signed out. */
export async function accessToken(): Promise<string | null> {
  const session = getSession();
  if (!session) return null;
  if (session.expiresAt - Date.now() > REFRESH_MARGIN_MS) return session.token;
  return refreshTokens(session.refreshToken);
}

/**
 * Trades the refresh token for a new pair, once even when many requests ask together: the server revokes
 * the whole session when a used refresh token comes back, so it must never be sent twice.
 */
export function refreshTokens(used: string): Promise<string | null> {
  if (refreshing) return refreshing;
  const latest = reloadSession();
  if (latest && latest.refreshToken !== used && latest.expiresAt - Date.now() > REFRESH_MARGIN_MS) {
    return Promise.resolve(latest.token); // another tab refreshed already
  }
  refreshing = (async () => {
    try {
      const response = await fetchImpl(
        new Request(`${baseUrl}/api/auth/refresh`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ refreshToken: latest?.refreshToken ?? used }),
        }),
      );
      if (!response.ok) {
        if (response.status === 401 || response.status === 403 || response.status === 422) {
          setSession(null, { expired: true });
        }
        return null;
      }
      const session = sessionFromAuth((await response.json()) as AuthResponse);
      setSession(session);
      return session.token;
    } catch {
      return null; // the network: keep the session, the caller sees its own failure
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Runs one API call and returns its data, or throws ApiError (an HTTP error answer) / NetworkError.
 * A 401 is retried once after a refresh; when that fails too, the session ends (sign-in comes next).
 */
export async function call<T>(request: () => Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await request();
    if (result.response.status === 401 && getSession()) {
      const token = await refreshTokens(getSession()!.refreshToken);
      if (!token) throw new ApiError(401, result.error, "Your session has ended");
      result = await request();
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new NetworkError(error);
  }
  if (result.response.ok) return result.data as T;
  if (result.response.status === 401 && getSession()) setSession(null, { expired: true });
  throw new ApiError(result.response.status, result.error, result.response.statusText || "Request failed");
}
