import { describe, expect, it } from "vitest";
import { parseSort, sortParam, toggleSort } from "./sort";

const FIELDS = ["name", "createdAt"] as const;

describe("sort", () => {
  it("reads the API's spelling and falls back on an unknown field", () => {
    expect(parseSort("-name", FIELDS, "-createdAt")).toEqual({ field: "name", desc: true });
    expect(parseSort("name", FIELDS, "-createdAt")).toEqual({ field: "name", desc: false });
    expect(parseSort("email", FIELDS, "-createdAt")).toEqual({ field: "createdAt", desc: true });
    expect(parseSort(null, FIELDS, "name")).toEqual({ field: "name", desc: false });
  });

  it("flips the sorted column and starts another ascending", () => {
    const byName = { field: "name" as const, desc: false };
    expect(sortParam(toggleSort(byName, "name"))).toBe("-name");
    expect(sortParam(toggleSort({ field: "name", desc: true }, "createdAt"))).toBe("createdAt");
  });
});
