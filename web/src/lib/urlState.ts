// A screen's state kept in the URL's query (filters, page, sort, tab): a reload, a shared link or "back"
// shows the same screen. One way to read it and to change it, for every screen.
import { useSearchParams } from "react-router";

/** A change to the query: a value sets its key, null or "" removes it; keys not named are kept. */
export type UrlChanges = Record<string, string | null | undefined>;

export function applyUrlChanges(params: URLSearchParams, changes: UrlChanges): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") next.delete(key);
    else next.set(key, value);
  }
  return next;
}

/** The current query, and `update` which changes some of its keys in place (no new history entry). */
export function useUrlState(): [URLSearchParams, (changes: UrlChanges) => void] {
  const [params, setParams] = useSearchParams();
  const update = (changes: UrlChanges) => setParams((current) => applyUrlChanges(current, changes), { replace: true });
  return [params, update];
}
