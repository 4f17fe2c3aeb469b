// Server state of the administration screen. Keys start with "users": USER_* events refresh them.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { components, paths } from "../../api/schema";
import { api, call } from "../../lib/api";
import type { Role } from "../../lib/session";

export type User = components["schemas"]["UserOut"];
export type UserCreate = components["schemas"]["UserCreate"];
export type UserChanges = components["schemas"]["UserUpdate"];
export type ApiKey = components["schemas"]["ApiKeyOut"];
export type ApiKeyCreated = components["schemas"]["ApiKeyCreated"];
export type AuditAction = components["schemas"]["Action"];
type SortOf<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } } ? NonNullable<Q> extends { sort?: infer S } ? NonNullable<S> : never : never;
export type UserSort = SortOf<"/api/auth/users">;
export type ApiKeySort = SortOf<"/api/auth/api-keys">;
export type AuditSort = SortOf<"/api/auth/audit">;
export const ROLES: Role[] = ["ADMIN", "MANAGER", "SALES", "COMPLIANCE", "USER"];
export const AUDIT_ACTIONS: AuditAction[] = [
  "REGISTERED",
  "LOGIN_SUCCEEDED",
  "LOGIN_FAILED",
  "LOGIN_THROTTLED",
  "LOGOUT",
  "REFRESH_TOKEN_REUSED",
  "API_KEY_CREATED",
  "API_KEYS_LISTED",
  "API_KEY_REVOKED",
  "API_KEY_USED",
  "API_KEY_REFUSED",
  "USER_CREATED",
  "USER_UPDATED",
  "ROLE_CHANGED",
  "USER_DELETED",
];

function defined<T extends object>(query: T): Partial<T> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && v !== "")) as Partial<T>;
}

export function useUsers(filters: { q?: string; role?: Role; sort?: UserSort; limit: number; offset: number }) {
  const query = defined(filters);
  return useQuery({
    queryKey: ["users", "list", query],
    queryFn: () => call(() => api.GET("/api/auth/users", { params: { query } })),
    placeholderData: keepPreviousData,
  });
}

/** Everyone (up to 500), for picking a manager and naming managers in the list. */
export function useAllUsers(enabled = true) {
  return useQuery({
    queryKey: ["users", "all"],
    enabled,
    queryFn: () => call(() => api.GET("/api/auth/users", { params: { query: { limit: 500 } } })),
  });
}

function useInvalidate(prefix: string[]) {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: prefix });
}

export function useCreateUser() {
  const invalidate = useInvalidate(["users"]);
  return useMutation({ mutationFn: (body: UserCreate) => call(() => api.POST("/api/auth/users", { body })), onSuccess: invalidate });
}

export function useUpdateUser() {
  const invalidate = useInvalidate(["users"]);
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: UserChanges }) =>
      call(() => api.PATCH("/api/auth/users/{user_id}", { params: { path: { user_id: id } }, body })),
    onSuccess: invalidate,
  });
}

/** 409 for yourself and for the last ADMIN. */
export function useDeleteUser() {
  const invalidate = useInvalidate(["users"]);
  return useMutation({
    mutationFn: (id: string) => call(() => api.DELETE("/api/auth/users/{user_id}", { params: { path: { user_id: id } } })),
    onSuccess: invalidate,
  });
}

export function useApiKeys(page: { sort?: ApiKeySort; limit: number; offset: number }) {
  const query = defined(page);
  return useQuery({
    queryKey: ["apiKeys", query],
    queryFn: () => call(() => api.GET("/api/auth/api-keys", { params: { query } })),
    placeholderData: keepPreviousData,
  });
}

export function useCreateApiKey() {
  const invalidate = useInvalidate(["apiKeys"]);
  return useMutation({
    mutationFn: (body: { name: string; role: Role }) => call(() => api.POST("/api/auth/api-keys", { body })),
    onSuccess: invalidate,
  });
}

export function useRevokeApiKey() {
  const invalidate = useInvalidate(["apiKeys"]);
  return useMutation({
    mutationFn: (id: string) => call(() => api.DELETE("/api/auth/api-keys/{key_id}", { params: { path: { key_id: id } } })),
    onSuccess: invalidate,
  });
}

export function useAudit(filters: { action?: AuditAction; actorId?: string; targetId?: string; sort?: AuditSort; limit: number; offset: number }) {
  const query = defined(filters);
  return useQuery({
    queryKey: ["audit", query],
    queryFn: () => call(() => api.GET("/api/auth/audit", { params: { query } })),
    placeholderData: keepPreviousData,
  });
}
