// A customer's timeline, put together from what the services return about it (newest first).
import type { components } from "../../api/schema";
import type { Customer } from "./queries";

type S = components["schemas"];
export interface TimelineEntry {
  at: string;
  kind: string; // an i18n key under customers:timeline
  title: string;
  /** from the server's record only: the event's type, the deal's new stage, the approval's status, who */
  type?: string;
  stage?: string;
  status?: string;
  actorId?: string | null;
}

export function buildTimeline(
  customer: Customer,
  tasks: S["TaskOut"][] = [],
  meetings: S["MeetingOut"][] = [],
  deals: S["OpportunityOut"][] = [],
  approvals: S["ApprovalOut"][] = [],
): TimelineEntry[] {
  const entries: TimelineEntry[] = [{ at: customer.createdAt, kind: "customerCreated", title: customer.name }];
  if (customer.updatedAt !== customer.createdAt) entries.push({ at: customer.updatedAt, kind: "customerUpdated", title: customer.name });
  if (customer.deletedAt) entries.push({ at: customer.deletedAt, kind: "customerDeleted", title: customer.name });
  for (const task of tasks) {
    entries.push({ at: task.createdAt, kind: "taskCreated", title: task.title });
    if (task.completedAt) entries.push({ at: task.completedAt, kind: "taskCompleted", title: task.title });
  }
  for (const meeting of meetings) entries.push({ at: meeting.startsAt, kind: "meeting", title: meeting.title });
  for (const deal of deals) {
    entries.push({ at: deal.createdAt, kind: "dealCreated", title: deal.name });
    if (deal.closedAt) entries.push({ at: deal.closedAt, kind: `deal${deal.stage === "WON" ? "Won" : "Lost"}`, title: deal.name });
  }
  for (const approval of approvals) {
    entries.push({ at: approval.createdAt, kind: "approvalRequested", title: approval.title });
    if (approval.decidedAt) entries.push({ at: approval.decidedAt, kind: `approval${approval.status}`, title: approval.title });
  }
  return entries.sort((a, b) => b.at.localeCompare(a.at));
}

/** The server's timeline (`GET /api/reports/customers/{id}/timeline`, analytics' record of the events, newest
 * first): also shows what others changed and deleted. `kind` is `events.<event type>` (a reassignment is
 * `events.CUSTOMER_REASSIGNED`); `stage` / `status` are for the label's {{stage}} / {{status}}. The record
 * reads several topics, so a new customer's task can be in it before the customer's own creation: when the
 * whole record is here without it, the creation comes from the customer itself. */
export function fromActivity(customer: Customer, page: S["Page_TimelineEntry_"]): TimelineEntry[] {
  const entries: TimelineEntry[] = page.items.map((e) => {
    const text = (key: string) => (typeof e.detail[key] === "string" ? (e.detail[key] as string) : undefined);
    const changed = Array.isArray(e.detail.changed) ? (e.detail.changed as unknown[]) : [];
    const type = e.type === "CUSTOMER_UPDATED" && changed.includes("ownerId") ? "CUSTOMER_REASSIGNED" : e.type;
    return {
      at: e.at,
      kind: `events.${type}`,
      type: e.type,
      title: text("name") ?? text("title") ?? "",
      stage: text("toStage"),
      status: text("status"),
      actorId: e.actorId,
    };
  });
  const complete = page.offset + page.items.length >= page.total;
  if (complete && !page.items.some((e) => e.type === "CUSTOMER_CREATED")) {
    entries.push({ at: customer.createdAt, kind: "events.CUSTOMER_CREATED", type: "CUSTOMER_CREATED", title: customer.name, actorId: customer.createdBy });
  }
  return entries;
}
