import { ActionIcon, Badge, Button, Group, Indicator, Popover, ScrollArea, Stack, Text, UnstyledButton } from "@mantine/core";
import { IconBell } from "@tabler/icons-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { formatRelative } from "../lib/format";
import { notificationLink, useMarkAllRead, useMarkRead, useUnreadNotifications } from "./notificationQueries";

/** The bell: unread count, the latest unread, mark one or all read. */
export function NotificationBell() {
  const { t } = useTranslation();
  const [opened, setOpened] = useState(false);
  const unread = useUnreadNotifications();
  const markRead = useMarkRead();
  const markAll = useMarkAllRead();
  const navigate = useNavigate();
  const count = unread.data?.count ?? 0;
  const label = t("notifications.bell", { count });

  return (
    <Popover opened={opened} onChange={setOpened} width={360} position="bottom-end" shadow="md">
      <Popover.Target>
        <Indicator label={count > 99 ? "99+" : count} size={18} disabled={count === 0} color="red" offset={4}>
          <ActionIcon
            variant="subtle"
            size="lg"
            aria-label={label}
            data-testid="notification-bell"
            data-count={count}
            onClick={() => setOpened((o) => !o)}
          >
            <IconBell size={22} />
          </ActionIcon>
        </Indicator>
      </Popover.Target>
      <Popover.Dropdown>
        <Group justify="space-between" mb="xs">
          <Text fw={600}>{t("notifications.unreadTitle", { count })}</Text>
          <Button size="compact-xs" variant="subtle" disabled={count === 0} loading={markAll.isPending} onClick={() => markAll.mutate()}>
            {t("notifications.markAllRead")}
          </Button>
        </Group>
        <ScrollArea.Autosize mah={360}>
          <Stack gap={4} role="list" aria-label={t("notifications.unreadTitle", { count })}>
            {(unread.data?.items ?? []).map((n) => (
              <Group key={n.id} role="listitem" justify="space-between" wrap="nowrap" gap="xs">
                <UnstyledButton
                  style={{ flex: 1 }}
                  onClick={() => {
                    markRead.mutate(n.id);
                    const to = notificationLink(n);
                    setOpened(false);
                    if (to) navigate(to);
                  }}
                >
                  <Text size="sm">{n.title}</Text>
                  <Group gap={6}>
                    <Text size="xs" c="dimmed">
                      {formatRelative(n.createdAt)}
                    </Text>
                    <Badge size="xs" variant="light">
                      {n.kind}
                    </Badge>
                  </Group>
                </UnstyledButton>
                <Button size="compact-xs" variant="light" onClick={() => markRead.mutate(n.id)} aria-label={t("notifications.markReadOf", { title: n.title })}>
                  {t("notifications.markRead")}
                </Button>
              </Group>
            ))}
            {count === 0 && (
              <Text size="sm" c="dimmed">
                {t("notifications.none")}
              </Text>
            )}
          </Stack>
        </ScrollArea.Autosize>
        <Button component={Link} to="/notifications" variant="subtle" fullWidth mt="xs" onClick={() => setOpened(false)}>
          {t("notifications.seeAll")}
        </Button>
      </Popover.Dropdown>
    </Popover>
  );
}
