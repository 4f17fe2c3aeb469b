// Server state of the meetings screen (query keys start with "meetings": MEETING_* events refresh them).
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, call } from "../../lib/api";
import type { components } from "../../api/schema";

export type Meeting = components["schemas"]["MeetingOut"];
export type MeetingInput = components["schemas"]["MeetingCreate"];
export type MeetingChanges = components["schemas"]["MeetingUpdate"];
export type MeetingStatus = components["schemas"]["MeetingStatus"];
export const STATUSES: MeetingStatus[] = ["SCHEDULED", "COMPLETED", "CANCELLED"];

export interface MeetingFilters {
  customerId?: string;
  ownerId?: string;
  status?: MeetingStatus;
  /** ISO instants, inclusive, on startsAt */
  from?: string;
  to?: string;
  limit: number;
  offset: number;
}

export function useMeetings(filters: MeetingFilters) {
  const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined && v !== ""));
  return useQuery({
    queryKey: ["meetings", "list", query],
    queryFn: () => call(() => api.GET("/api/meetings", { params: { query } })),
    placeholderData: keepPreviousData,
  });
}

function useInvalidate() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: ["meetings"] });
}

export function useCreateMeeting() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (body: MeetingInput) => call(() => api.POST("/api/meetings", { body })),
    onSuccess: invalidate,
  });
}

export function useUpdateMeeting() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: MeetingChanges }) =>
      call(() => api.PATCH("/api/meetings/{meeting_id}", { params: { path: { meeting_id: id } }, body })),
    onSuccess: invalidate,
  });
}

/** The API's DELETE cancels: the meeting stays, CANCELLED (a completed one answers 409). */
export function useCancelMeeting() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (id: string) => call(() => api.DELETE("/api/meetings/{meeting_id}", { params: { path: { meeting_id: id } } })),
    onSuccess: invalidate,
  });
}
