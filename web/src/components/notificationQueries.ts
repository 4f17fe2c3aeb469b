// The signed-in user's in-app notifications (analytics stores them from notification.events).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, call } from "../lib/api";
import type { components } from "../api/schema";

export type Notification = components["schemas"]["NotificationOut"];

export function useUnreadNotifications() {
  return useQuery({
    queryKey: ["notifications", "unread"],
    queryFn: () => call(() => api.GET("/api/notifications/unread", { params: { query: { limit: 10 } } })),
    refetchInterval: 60_000, // a safety net; the live stream invalidates it as events arrive
  });
}

export function useNotificationList(page: { limit: number; offset: number; unread?: boolean }) {
  return useQuery({
    queryKey: ["notifications", "list", page],
    queryFn: () => call(() => api.GET("/api/notifications", { params: { query: page } })),
  });
}

export function useMarkRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      call(() => api.POST("/api/notifications/{notification_id}/read", { params: { path: { notification_id: id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: ["notifications"] }),
  });
}

export function useMarkAllRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => call(() => api.POST("/api/notifications/read-all")),
    onSettled: () => client.invalidateQueries({ queryKey: ["notifications"] }),
  });
}

/** Where a notification leads: its subject's screen. */
export function notificationLink(n: Notification): string | null {
  switch (n.subjectType) {
    case "task":
      return "/tasks";
    case "approval":
      return "/approvals";
    case "opportunity":
      return "/deals";
    case "customer":
      return `/customers/${n.subjectId}`;
    default:
      return null;
  }
}
