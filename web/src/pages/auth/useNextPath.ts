import { useSearchParams } from "react-router";

/** Where to go after signing in: back where the user was (only a path of this app, never another site). */
export function useNextPath(): string {
  const [params] = useSearchParams();
  const next = params.get("next") ?? "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
