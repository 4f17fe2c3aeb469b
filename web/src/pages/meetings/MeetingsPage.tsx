import { ActionIcon, Anchor, Badge, Button, Group, Modal, SegmentedControl, Select, Stack, Switch, Table, Text, TextInput, Title } from "@mantine/core";
import { IconPencil, IconPlus, IconX } from "@tabler/icons-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { CustomerName, CustomerSelect } from "../../components/CustomerSelect";
import { ErrorAlert } from "../../components/ErrorAlert";
import { EmptyRow, ListFooter } from "../../components/ListParts";
import { useSession } from "../../lib/auth";
import { formatDateTime, formatNumber } from "../../lib/format";
import { notifyFailure, notifySaved } from "../../lib/notify";
import { can, SEES_ALL, WRITERS } from "../../lib/roles";
import { useUrlState } from "../../lib/urlState";
import { MeetingForm, type MeetingValues } from "./MeetingForm";
import { STATUSES, useCancelMeeting, useCreateMeeting, useMeetings, useUpdateMeeting, type Meeting, type MeetingStatus } from "./queries";
import { addDays, isoDay, parseDay, startOfWeek } from "../../lib/days";
import { WeekCalendar } from "./WeekCalendar";

const PAGE_SIZE = 20;
const STATUS_COLOR: Record<MeetingStatus, string> = { SCHEDULED: "blue", COMPLETED: "green", CANCELLED: "gray" };

type Editing = { meeting?: Meeting; startsAt?: string } | null;

export default function MeetingsPage() {
  const { t } = useTranslation("meetings");
  const session = useSession();
  const role = session?.user.role;
  const writer = can(role, WRITERS);
  // USER/SALES see only their own meetings; MANAGER/ADMIN may change any they see (COMPLIANCE reads only).
  const mayChange = (m: Meeting) => writer && (m.ownerId === session?.user.id || can(role, SEES_ALL));
  // The screen's state lives in the URL: a reload, a shared link or "back" shows the same list or week.
  const [params, update] = useUrlState();
  const view = params.get("view") === "week" ? "week" : "list";
  const customerId = params.get("customer") ?? undefined;
  // USER/SALES only ever see their own; the others see everyone's and may narrow to theirs.
  const seesAll = can(role, SEES_ALL);
  const ownerId = seesAll && params.get("mine") === "1" ? session?.user.id : undefined;
  const status = (params.get("status") as MeetingStatus | null) ?? undefined;
  const from = params.get("from") ?? isoDay(new Date());
  const to = params.get("to") ?? "";
  const page = Math.max(1, Number(params.get("page") ?? 1));
  const weekStart = startOfWeek(parseDay(params.get("week")) ?? new Date());
  const [editing, setEditing] = useState<Editing>(null);
  const [viewing, setViewing] = useState<Meeting | null>(null);

  const fromDay = parseDay(from);
  const toDay = parseDay(to);
  const list = useMeetings({
    customerId,
    ownerId,
    status,
    from: fromDay?.toISOString(),
    to: toDay ? new Date(addDays(toDay, 1).getTime() - 1).toISOString() : undefined,
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
  });
  const create = useCreateMeeting();
  const change = useUpdateMeeting();
  const cancel = useCancelMeeting();
  const rows = list.data?.items ?? [];
  const total = list.data?.total ?? 0;

  const save = async (values: MeetingValues) => {
    if (editing?.meeting) {
      const saved = await change.mutateAsync({ id: editing.meeting.id, body: values });
      notifySaved(t("saved", { title: saved.title }));
    } else {
      const { status: _ignored, ...body } = values;
      const saved = await create.mutateAsync(body);
      notifySaved(t("created", { title: saved.title }));
    }
    setEditing(null);
  };

  const cancelMeeting = async (m: Meeting) => {
    if (!window.confirm(t("confirmCancel", { title: m.title }))) return;
    try {
      await cancel.mutateAsync(m.id);
      notifySaved(t("cancelled", { title: m.title }));
    } catch (e) {
      notifyFailure(e);
    }
  };

  const open = (m: Meeting) => (mayChange(m) ? setEditing({ meeting: m }) : setViewing(m));

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t("title")}</Title>
        {writer && (
          <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing({})}>
            {t("new")}
          </Button>
        )}
      </Group>
      <Group align="flex-end" wrap="wrap">
        <SegmentedControl
          aria-label={t("view")}
          value={view}
          onChange={(v) => update({ view: v === "week" ? "week" : null })}
          data={[
            { value: "list", label: t("upcoming") },
            { value: "week", label: t("weekView") },
          ]}
        />
        <CustomerSelect
          label={t("fields.customer")}
          placeholder={t("allCustomers")}
          clearable
          value={customerId ?? null}
          onChange={(v) => update({ customer: v, page: null })}
          w={240}
        />
        {seesAll && (
          <Switch label={t("onlyMine")} checked={Boolean(ownerId)} onChange={(e) => update({ mine: e.currentTarget.checked ? "1" : null, page: null })} mb={8} />
        )}
        {view === "list" && (
          <>
            <TextInput label={t("from")} type="date" value={from} onChange={(e) => update({ from: e.currentTarget.value || isoDay(new Date()), page: null })} w={170} />
            <TextInput label={t("to")} type="date" value={to} onChange={(e) => update({ to: e.currentTarget.value, page: null })} w={170} />
            <Select
              label={t("fields.status")}
              placeholder={t("anyStatus")}
              clearable
              value={status ?? null}
              onChange={(v) => update({ status: v, page: null })}
              data={STATUSES.map((s) => ({ value: s, label: t(`common:meetingStatus.${s}`) }))}
              w={160}
            />
          </>
        )}
      </Group>
      {view === "week" ? (
        <WeekCalendar
          weekStart={weekStart}
          customerId={customerId}
          ownerId={ownerId}
          onWeek={(d) => update({ week: isoDay(startOfWeek(d)) })}
          onOpen={open}
          onAdd={writer ? (day) => setEditing({ startsAt: new Date(day.getFullYear(), day.getMonth(), day.getDate(), 10).toISOString() }) : undefined}
        />
      ) : (
        <>
          {list.error ? <ErrorAlert error={list.error} onRetry={() => void list.refetch()} /> : null}
          <Table.ScrollContainer minWidth={700}>
            <Table striped highlightOnHover aria-label={t("upcoming")} aria-busy={list.isFetching}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t("fields.startsAt")}</Table.Th>
                  <Table.Th>{t("fields.title")}</Table.Th>
                  <Table.Th>{t("fields.customer")}</Table.Th>
                  <Table.Th>{t("fields.location")}</Table.Th>
                  <Table.Th>{t("fields.status")}</Table.Th>
                  {writer && <Table.Th>{t("common:actions.label")}</Table.Th>}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((m) => (
                  <Table.Tr key={m.id} data-testid="meeting-row">
                    <Table.Td>{formatDateTime(m.startsAt)}</Table.Td>
                    <Table.Td>
                      <Anchor component="button" type="button" onClick={() => open(m)}>
                        {m.title}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Anchor component={Link} to={`/customers/${m.customerId}`}>
                        <CustomerName id={m.customerId} />
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{m.location ?? "—"}</Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={STATUS_COLOR[m.status]}>
                        {t(`common:meetingStatus.${m.status}`)}
                      </Badge>
                    </Table.Td>
                    {writer && (
                      <Table.Td>
                        {mayChange(m) && (
                          <Group gap={4} wrap="nowrap">
                            <ActionIcon variant="subtle" aria-label={t("edit", { title: m.title })} onClick={() => setEditing({ meeting: m })}>
                              <IconPencil size={18} />
                            </ActionIcon>
                            {m.status === "SCHEDULED" && (
                              <ActionIcon variant="subtle" color="red" aria-label={t("cancel", { title: m.title })} onClick={() => void cancelMeeting(m)}>
                                <IconX size={18} />
                              </ActionIcon>
                            )}
                          </Group>
                        )}
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
                {!list.isLoading && !list.error && rows.length === 0 && <EmptyRow colSpan={6}>{t("empty")}</EmptyRow>}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <ListFooter
            count={t("count", { count: total, formatted: formatNumber(total) })}
            total={total}
            pageSize={PAGE_SIZE}
            page={page}
            onPage={(p) => update({ page: String(p) })}
          />
        </>
      )}
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing?.meeting ? t("editTitle") : t("createTitle")} size="lg">
        {editing && <MeetingForm meeting={editing.meeting} startsAt={editing.startsAt} onSubmit={save} onCancel={() => setEditing(null)} />}
      </Modal>
      <Modal opened={viewing !== null} onClose={() => setViewing(null)} title={viewing?.title}>
        {viewing && (
          <Stack gap="xs">
            <Text>{formatDateTime(viewing.startsAt)}{viewing.endsAt ? ` – ${formatDateTime(viewing.endsAt)}` : ""}</Text>
            <Text>
              {t("fields.customer")}: <CustomerName id={viewing.customerId} />
            </Text>
            {viewing.location && <Text>{t("fields.location")}: {viewing.location}</Text>}
            <Badge variant="light" color={STATUS_COLOR[viewing.status]}>
              {t(`common:meetingStatus.${viewing.status}`)}
            </Badge>
            {viewing.attendees.length > 0 && <Text>{t("fields.attendees")}: {viewing.attendees.join(", ")}</Text>}
            {viewing.summary && <Text style={{ whiteSpace: "pre-wrap" }}>{viewing.summary}</Text>}
            {viewing.notes && <Text size="sm" c="dimmed" style={{ whiteSpace: "pre-wrap" }}>{viewing.notes}</Text>}
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}
