import { QueryClient } from "@tanstack/react-query";
import { ApiError, NetworkError } from "./errors";

/** Network failures retry (with backoff); HTTP answers (4xx) do not, they are shown. */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        retry: (count, error) => (error instanceof NetworkError ? count < 5 : !(error instanceof ApiError) && count < 2),
        retryDelay: (attempt) => Math.min(10_000, 500 * 2 ** attempt),
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}
