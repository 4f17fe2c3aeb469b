import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it, vi } from "vitest";
import { applyEvent, runStream, THROTTLED_MS } from "./live";
import { setFetch } from "./api";
import { setSession } from "./session";

function sse(text: string): Response {
  return new Response(text, { headers: { "content-type": "text/event-stream" } });
}

/** A client whose invalidations are recorded (their query keys), not run. */
function spiedClient(): { client: QueryClient; invalidated: unknown[] } {
  const client = new QueryClient();
  const invalidated: unknown[] = [];
  vi.spyOn(client, "invalidateQueries").mockImplementation(async (filters) => {
    invalidated.push(filters?.queryKey);
  });
  return { client, invalidated };
}

describe("the live stream", () => {
  it("invalidates the caches an event changes, ignores unknown types, and resumes from the last id", async () => {
    setSession({ token: "t", refreshToken: "r", expiresAt: Date.now() + 600_000, user: { id: "u", email: "u@e.com", name: "U", role: "USER", createdAt: "" } });
    const { client, invalidated } = spiedClient();
    const controller = new AbortController();
    const seen: (string | null)[] = [];
    const fetchImpl = vi.fn(async (_url: string, init: RequestInit) => {
      const headers = init.headers as Record<string, string>;
      seen.push(headers["Last-Event-ID"] ?? null);
      if (seen.length === 1) {
        return sse(
          'event: ready\ndata: {}\n\nid: c-1\nevent: TASK_CREATED\ndata: {"id":"e1","type":"TASK_CREATED","data":{"customerId":"c"}}\n\n' +
            'id: c-2\nevent: SOMETHING_NEW\ndata: {"id":"e2","type":"SOMETHING_NEW","data":{}}\n\n',
        );
      }
      controller.abort();
      return sse("");
    });
    await runStream({ client, signal: controller.signal, fetch: fetchImpl as unknown as typeof fetch, backoff: () => 0 });
    expect(invalidated).toContainEqual(["tasks"]);
    expect(invalidated).toContainEqual(["customers"]);
    // everything once at the first ready (nothing came on a stream before it), then TASK_CREATED's four keys;
    // the unknown type changed nothing, and the resumed stream did not reload everything again
    expect(invalidated[0]).toBeUndefined();
    expect(invalidated).toHaveLength(5);
    expect(seen).toEqual([null, "c-2"]);
    expect((fetchImpl.mock.calls[0][1].headers as Record<string, string>).Authorization).toBe("Bearer t");
  });
});

describe("the live stream's token", () => {
  it("is renewed when the stream answers 401, then the stream resumes with the new one", async () => {
    setSession({ token: "revoked", refreshToken: "r1", expiresAt: Date.now() + 600_000, user: { id: "u", email: "u@e.com", name: "U", role: "USER", createdAt: "" } });
    const controller = new AbortController();
    const seen: string[] = [];
    const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.endsWith("/api/auth/refresh")) {
        return new Response(JSON.stringify({ token: "fresh", tokenType: "Bearer", expiresIn: 900, refreshToken: "r2", refreshExpiresIn: 1, user: { id: "u", email: "u@e.com", name: "U", role: "USER", createdAt: "" } }), { status: 200 });
      }
      seen.push((init?.headers as Record<string, string>).Authorization);
      if (seen.length === 1) return new Response("{}", { status: 401 });
      controller.abort();
      return new Response("event: ready\ndata: {}\n\n");
    });
    setFetch(fetchImpl as unknown as typeof fetch);
    await runStream({ client: new QueryClient(), signal: controller.signal, fetch: fetchImpl as unknown as typeof fetch, backoff: () => 0 });
    expect(seen).toEqual(["Bearer revoked", "Bearer fresh"]);
  });
});

describe("the reports on the live stream", () => {
  it("refetch once per burst of events, a moment after its first, and again for a later event", async () => {
    vi.useFakeTimers();
    try {
      const { client, invalidated } = spiedClient();
      const reports = () => invalidated.filter((k) => JSON.stringify(k) === '["reports"]').length;
      const burst = ["CUSTOMER_CREATED", "TASK_CREATED", "TASK_COMPLETED", "OPPORTUNITY_STAGE_CHANGED", "APPROVAL_STATUS_CHANGED"];
      for (const [i, type] of burst.entries()) applyEvent(client, { id: `e${i}`, type, data: {} });
      expect(invalidated).toContainEqual(["tasks"]); // the other caches at once
      expect(reports()).toBe(0); // not yet: analytics counts these events a moment later

      await vi.advanceTimersByTimeAsync(THROTTLED_MS.reports);
      expect(reports()).toBe(1); // five events, one refetch
      await vi.advanceTimersByTimeAsync(THROTTLED_MS.reports * 5);
      expect(reports()).toBe(1);

      applyEvent(client, { id: "e9", type: "TASK_UPDATED", data: {} });
      await vi.advanceTimersByTimeAsync(THROTTLED_MS.reports);
      expect(reports()).toBe(2);
      applyEvent(client, { id: "e10", type: "MEETING_UPDATED", data: {} }); // no report counts meetings
      await vi.advanceTimersByTimeAsync(THROTTLED_MS.reports);
      expect(reports()).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("a customer's timeline on the live stream", () => {
  it("is refetched a moment after an approval's change (analytics records it), once per burst", async () => {
    vi.useFakeTimers();
    try {
      const { client, invalidated } = spiedClient();
      const timelines = () => invalidated.filter((k) => JSON.stringify(k) === '["timeline"]').length;
      applyEvent(client, { id: "a1", type: "APPROVAL_REQUESTED", data: { customerId: "c" } });
      applyEvent(client, { id: "a2", type: "APPROVAL_STATUS_CHANGED", data: { customerId: "c" } });
      expect(timelines()).toBe(0); // not at once: the record trails the event
      await vi.advanceTimersByTimeAsync(THROTTLED_MS.timeline);
      expect(timelines()).toBe(1);
      applyEvent(client, { id: "n1", type: "TASK_DUE_SOON", data: {} }); // names no line of a timeline
      await vi.advanceTimersByTimeAsync(THROTTLED_MS.timeline);
      expect(timelines()).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
