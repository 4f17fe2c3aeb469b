import { describe, expect, it } from "vitest";
import { applyUrlChanges } from "./urlState";

describe("a screen's state in the URL", () => {
  it("sets the keys given a value, removes those given null or an empty text, and keeps the others", () => {
    const next = applyUrlChanges(new URLSearchParams("q=acme&page=3&sort=name"), { page: null, q: "", size: "LARGE", sort: "-name" });
    expect(next.toString()).toBe("sort=-name&size=LARGE");
  });
});
