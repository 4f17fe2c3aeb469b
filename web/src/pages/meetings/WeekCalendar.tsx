import { ActionIcon, Button, Group, Paper, SimpleGrid, Stack, Text, UnstyledButton } from "@mantine/core";
import { IconChevronLeft, IconChevronRight, IconPlus } from "@tabler/icons-react";
import type { KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import { ErrorAlert } from "../../components/ErrorAlert";
import { formatDate, formatDay, formatTime } from "../../lib/format";
import { useMeetings, type Meeting } from "./queries";
import { addDays, sameDay } from "../../lib/days";
import classes from "./WeekCalendar.module.css";

/** ←/→ go to the previous/next day's first button, ↑/↓ between the buttons of a day. */
function moveFocus(event: KeyboardEvent<HTMLElement>) {
  const target = event.target as HTMLElement;
  const day = target.closest("section");
  if (!day || !["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(event.key)) return;
  const days = Array.from(event.currentTarget.querySelectorAll("section"));
  const buttons = (section: Element) => Array.from(section.querySelectorAll<HTMLElement>("button"));
  let next: HTMLElement | undefined;
  if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
    const to = days[days.indexOf(day) + (event.key === "ArrowRight" ? 1 : -1)];
    next = to ? buttons(to)[0] : undefined;
  } else {
    const own = buttons(day);
    next = own[own.indexOf(target) + (event.key === "ArrowDown" ? 1 : -1)];
  }
  if (next) {
    event.preventDefault();
    next.focus();
  }
}

/**
 * Seven days from `weekStart` (a Monday), each a list of its meetings in start order. Every meeting and every
 * "add" is a button, so the week is used with Tab/Enter (and the arrow keys) alone; the week moves with the buttons above it.
 */
export function WeekCalendar({
  weekStart,
  customerId,
  ownerId,
  onWeek,
  onOpen,
  onAdd,
}: {
  weekStart: Date;
  customerId?: string;
  ownerId?: string;
  onWeek: (start: Date) => void;
  onOpen: (meeting: Meeting) => void;
  /** absent when the caller may not create meetings */
  onAdd?: (day: Date) => void;
}) {
  const { t } = useTranslation("meetings");
  const end = addDays(weekStart, 7);
  const list = useMeetings({
    customerId,
    ownerId,
    from: weekStart.toISOString(),
    to: new Date(end.getTime() - 1).toISOString(),
    limit: 500,
    offset: 0,
  });
  const days = Array.from({ length: 7 }, (_, i) => addDays(weekStart, i));
  const today = new Date();
  const meetings = list.data?.items ?? [];

  return (
    <Stack>
      <Group justify="space-between">
        <Group gap="xs">
          <ActionIcon variant="default" size="lg" aria-label={t("week.previous")} onClick={() => onWeek(addDays(weekStart, -7))}>
            <IconChevronLeft size={18} />
          </ActionIcon>
          <Button variant="default" onClick={() => onWeek(today)}>
            {t("week.thisWeek")}
          </Button>
          <ActionIcon variant="default" size="lg" aria-label={t("week.next")} onClick={() => onWeek(addDays(weekStart, 7))}>
            <IconChevronRight size={18} />
          </ActionIcon>
        </Group>
        <Text fw={600} aria-live="polite">
          {t("week.range", { from: formatDate(weekStart), to: formatDate(addDays(weekStart, 6)) })}
        </Text>
      </Group>
      {list.error ? <ErrorAlert error={list.error} onRetry={() => void list.refetch()} /> : null}
      <Text size="xs" c="dimmed" id="week-keys">
        {t("week.keys")}
      </Text>
      <SimpleGrid cols={{ base: 1, sm: 7 }} spacing={4} aria-busy={list.isFetching} aria-describedby="week-keys" onKeyDown={moveFocus}>
        {days.map((day) => {
          const mine = meetings.filter((m) => sameDay(new Date(m.startsAt), day));
          const label = formatDay(day);
          return (
            <Paper
              key={day.toISOString()}
              component="section"
              withBorder
              p={6}
              className={classes.day}
              data-today={sameDay(day, today) || undefined}
              aria-label={label}
            >
              <Group justify="space-between" gap={2} wrap="nowrap" mb={4}>
                <Text size="sm" fw={600} component="h3" m={0}>
                  {label}
                </Text>
                {onAdd && (
                  <ActionIcon size="sm" variant="subtle" aria-label={t("week.addOn", { day: label })} onClick={() => onAdd(day)}>
                    <IconPlus size={14} />
                  </ActionIcon>
                )}
              </Group>
              <Stack gap={4}>
                {mine.map((m) => (
                  <UnstyledButton
                    key={m.id}
                    className={classes.meeting}
                    data-status={m.status}
                    onClick={() => onOpen(m)}
                    aria-label={t("week.open", { time: formatTime(m.startsAt), title: m.title, status: t(`common:meetingStatus.${m.status}`) })}
                  >
                    <Text size="xs" c="dimmed">
                      {formatTime(m.startsAt)}
                    </Text>
                    <Text size="sm" lineClamp={2}>
                      {m.title}
                    </Text>
                  </UnstyledButton>
                ))}
                {!list.isLoading && mine.length === 0 && (
                  <Text size="xs" c="dimmed">
                    {t("week.free")}
                  </Text>
                )}
              </Stack>
            </Paper>
          );
        })}
      </SimpleGrid>
    </Stack>
  );
}
