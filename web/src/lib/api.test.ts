import { describe, expect, it } from "vitest";
import { api, call } from "./api";
import { getSession, sessionExpired, setSession } from "./session";
import { fakeApi, json, signedInAs } from "../test/render";

const user = { id: "u1", email: "u1@example.com", name: "U", role: "SALES" as const, createdAt: "2026-01-01T00:00:00Z" };
const renewed = { token: "new-token", tokenType: "Bearer", expiresIn: 900, refreshToken: "new-refresh", refreshExpiresIn: 2592000, user };

describe("the API client's session handling", () => {
  it("refreshes a token about to expire once, even for requests made together", async () => {
    setSession({ token: "old", refreshToken: "refresh-1", expiresAt: Date.now() + 5_000, user });
    const refreshes: string[] = [];
    const calls = fakeApi({
      "POST /api/auth/refresh": async (req) => {
        refreshes.push(((await req.json()) as { refreshToken: string }).refreshToken);
        return json(renewed);
      },
      "GET /api/auth/me": () => user,
    });
    await Promise.all([1, 2, 3].map(() => call(() => api.GET("/api/auth/me"))));
    expect(refreshes).toEqual(["refresh-1"]); // a refresh token is never sent twice
    const me = calls.filter((c) => c.url.endsWith("/api/auth/me"));
    expect(me.map((c) => c.headers.get("Authorization"))).toEqual(Array(3).fill("Bearer new-token"));
    expect(getSession()?.refreshToken).toBe("new-refresh");
  });

  it("retries a 401 once after a refresh", async () => {
    signedInAs("SALES");
    let first = true;
    fakeApi({
      "POST /api/auth/refresh": () => json(renewed),
      "GET /api/auth/me": (req) => {
        if (first) {
          first = false;
          return json({ error: "unauthorized", message: "Token revoked" }, 401);
        }
        return req.headers.get("Authorization") === "Bearer new-token" ? user : json({}, 401);
      },
    });
    await expect(call(() => api.GET("/api/auth/me"))).resolves.toMatchObject({ id: "u1" });
  });

  it("ends the session when the refresh is refused, so sign-in comes next", async () => {
    signedInAs("SALES");
    fakeApi({
      "POST /api/auth/refresh": () => json({ error: "unauthorized", message: "Refresh token reused" }, 401),
      "GET /api/auth/me": () => json({ error: "unauthorized", message: "Token expired" }, 401),
    });
    await expect(call(() => api.GET("/api/auth/me"))).rejects.toMatchObject({ status: 401 });
    expect(getSession()).toBeNull();
    expect(sessionExpired()).toBe(true);
  });
});
