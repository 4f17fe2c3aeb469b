import { describe, expect, it } from "vitest";
import { SseParser, type SseMessage } from "./sse";

describe("SseParser", () => {
  it("reads id, event and data across chunk boundaries, skipping comments", () => {
    const seen: SseMessage[] = [];
    const parser = new SseParser((m) => seen.push(m));
    parser.push("event: ready\ndata: {}\n\n: keep-alive\n\nid: 7\nevent: TASK_CRE");
    parser.push('ATED\ndata: {"type":"TASK_CREATED"}\r\n\r\n');
    expect(seen).toEqual([
      { id: undefined, event: "ready", data: "{}" },
      { id: "7", event: "TASK_CREATED", data: '{"type":"TASK_CREATED"}' },
    ]);
  });
});
