import { Group, Select, Stack, TagsInput, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { CustomerSelect } from "../../components/CustomerSelect";
import { FormActions } from "../../components/ListParts";
import { showFieldErrors } from "../../lib/forms";
import { STATUSES, type Meeting, type MeetingInput, type MeetingStatus } from "./queries";
import { fromLocalInput, toLocalInput } from "../../lib/days";

const FIELDS = ["customerId", "title", "startsAt", "endsAt", "location", "attendees", "summary", "notes", "status"] as const;

export interface MeetingValues extends MeetingInput {
  status?: MeetingStatus;
}

/**
 * Create or edit a meeting. A failed save keeps what was typed: field errors (422) appear beside their
 * fields, anything else above the buttons.
 */
export function MeetingForm({
  meeting,
  startsAt,
  onSubmit,
  onCancel,
}: {
  meeting?: Meeting;
  /** a new meeting's proposed start (the calendar's day) */
  startsAt?: string;
  onSubmit: (values: MeetingValues) => Promise<unknown>;
  onCancel: () => void;
}) {
  const { t } = useTranslation("meetings");
  const [error, setError] = useState<unknown>(null);
  const form = useForm({
    initialValues: {
      customerId: meeting?.customerId ?? (null as string | null),
      title: meeting?.title ?? "",
      startsAt: toLocalInput(meeting?.startsAt ?? startsAt),
      endsAt: toLocalInput(meeting?.endsAt),
      location: meeting?.location ?? "",
      attendees: meeting?.attendees ?? ([] as string[]),
      summary: meeting?.summary ?? "",
      notes: meeting?.notes ?? "",
      status: meeting?.status ?? ("SCHEDULED" as MeetingStatus),
    },
    validate: {
      customerId: (v) => (v ? null : t("customerRequired")),
      title: (v) => (v.trim() ? null : t("titleRequired")),
      startsAt: (v) => (fromLocalInput(v) ? null : t("startsAtRequired")),
    },
  });

  const submit = form.onSubmit(async (values) => {
    setError(null);
    const body: MeetingValues = {
      customerId: values.customerId!,
      title: values.title.trim(),
      startsAt: fromLocalInput(values.startsAt)!,
      endsAt: fromLocalInput(values.endsAt),
      location: values.location.trim() || null,
      attendees: values.attendees.map((a) => a.trim()).filter(Boolean),
      summary: values.summary.trim() || null,
      notes: values.notes.trim() || null,
    };
    if (meeting) body.status = values.status;
    try {
      await onSubmit(body);
    } catch (e) {
      if (!showFieldErrors(form, e, FIELDS)) setError(e);
    }
  });

  return (
    <form onSubmit={submit} noValidate aria-label={meeting ? t("editTitle") : t("createTitle")}>
      <Stack>
        <CustomerSelect label={t("fields.customer")} required {...form.getInputProps("customerId")} />
        <TextInput label={t("fields.title")} required data-autofocus {...form.getInputProps("title")} />
        <Group grow align="flex-start">
          <TextInput label={t("fields.startsAt")} type="datetime-local" required {...form.getInputProps("startsAt")} />
          <TextInput label={t("fields.endsAt")} type="datetime-local" {...form.getInputProps("endsAt")} />
        </Group>
        <TextInput label={t("fields.location")} {...form.getInputProps("location")} />
        <TagsInput label={t("fields.attendees")} description={t("attendeesHint")} {...form.getInputProps("attendees")} />
        <Textarea label={t("fields.summary")} rows={3} {...form.getInputProps("summary")} />
        <Textarea label={t("fields.notes")} rows={2} {...form.getInputProps("notes")} />
        {meeting && (
          <Select
            label={t("fields.status")}
            allowDeselect={false}
            data={STATUSES.map((s) => ({ value: s, label: t(`common:meetingStatus.${s}`) }))}
            {...form.getInputProps("status")}
          />
        )}
        <FormActions error={error} submitting={form.submitting} onCancel={onCancel} />
      </Stack>
    </form>
  );
}
