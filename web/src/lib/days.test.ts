import { describe, expect, it } from "vitest";
import { addDays, fromLocalInput, isoDay, parseDay, startOfWeek, toLocalInput } from "./days";

describe("week arithmetic", () => {
  it("starts weeks on Monday, also from a Sunday", () => {
    expect(isoDay(startOfWeek(new Date(2026, 11, 3, 15)))).toBe("2026-11-30"); // Thursday
    expect(isoDay(startOfWeek(new Date(2026, 11, 6, 23)))).toBe("2026-11-30"); // Sunday
    expect(isoDay(startOfWeek(new Date(2026, 10, 30)))).toBe("2026-11-30"); // Monday itself
  });

  it("crosses months and years", () => {
    expect(isoDay(addDays(new Date(2026, 11, 28), 7))).toBe("2027-01-04");
  });

  it("round-trips days and local times", () => {
    expect(isoDay(parseDay("2026-02-03")!)).toBe("2026-02-03");
    expect(parseDay("yesterday")).toBeNull();
    const local = "2026-12-01T09:30";
    expect(toLocalInput(fromLocalInput(local))).toBe(local);
    expect(fromLocalInput("")).toBeNull();
  });
});
