import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";
import "../lib/i18n";
import { setSession } from "../lib/session";

// findBy*/waitFor wait up to 10 s (default 1 s): a shared 2-core machine is slow, and debounced searches take 300 ms.
configure({ asyncUtilTimeout: 10_000 });

// jsdom lacks what Mantine measures with.
Object.defineProperty(window, "matchMedia", {
  writable: true,
  value: (query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => {},
    removeListener: () => {},
    addEventListener: () => {},
    removeEventListener: () => {},
    dispatchEvent: () => false,
  }),
});
class ResizeObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
}
window.ResizeObserver = ResizeObserver as unknown as typeof window.ResizeObserver;
window.HTMLElement.prototype.scrollIntoView = () => {};
// Textarea's autosize listens for web fonts loading.
if (!("fonts" in document)) Object.defineProperty(document, "fonts", { value: { addEventListener: () => {}, removeEventListener: () => {} } });

afterEach(() => {
  cleanup();
  setSession(null);
  localStorage.clear();
});
