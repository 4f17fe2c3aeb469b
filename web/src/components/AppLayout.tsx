import { AppShell, Badge, Burger, Button, Group, NavLink, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import {
  IconBell,
  IconBuilding,
  IconCalendar,
  IconChartBar,
  IconChecklist,
  IconGauge,
  IconLayoutKanban,
  IconLogout,
  IconSettings,
  IconRosetteDiscountCheck,
} from "@tabler/icons-react";
import { useQueryClient } from "@tanstack/react-query";
import { Outlet, NavLink as RouterLink, useLocation } from "react-router";
import { useTranslation } from "react-i18next";
import { signOut, useSession } from "../lib/auth";
import { useLiveStream } from "../lib/live";
import { can } from "../lib/roles";
import { appRoutes } from "../routes";
import { ConnectionNotice } from "./ConnectionNotice";
import { LanguageSwitch } from "./LanguageSwitch";
import { NotificationBell } from "./NotificationBell";

const ICONS: Record<string, typeof IconGauge> = {
  dashboard: IconGauge,
  customers: IconBuilding,
  tasks: IconChecklist,
  meetings: IconCalendar,
  deals: IconLayoutKanban,
  approvals: IconRosetteDiscountCheck,
  reports: IconChartBar,
  notifications: IconBell,
  admin: IconSettings,
};

/** The shell: header (bell, language, user, sign out), navigation by role, the live stream, the screen. */
export function AppLayout() {
  const { t } = useTranslation();
  const session = useSession();
  const client = useQueryClient();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  useLiveStream(client, session?.user.id);
  const role = session?.user.role;
  const nav = appRoutes.filter((r) => r.nav && (!r.roles || can(role, r.roles)));

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t("nav.toggle")} />
            <Title order={1} size="h4">
              {t("appName")}
            </Title>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <LanguageSwitch />
            <NotificationBell />
            <Text size="sm" visibleFrom="sm" data-testid="signed-in-user">
              {session?.user.name}
            </Text>
            <Badge variant="light" visibleFrom="sm">
              {role ? t(`roles.${role}`) : ""}
            </Badge>
            <Button size="xs" variant="subtle" leftSection={<IconLogout size={16} />} onClick={() => {
                client.clear();
                void signOut();
              }}>
              {t("actions.signOut")}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label={t("nav.label")}>
        {nav.map((route) => {
          const Icon = ICONS[route.nav!.icon] ?? IconGauge;
          const active = route.path === "/" ? location.pathname === "/" : location.pathname.startsWith(route.path);
          return (
            <NavLink
              key={route.path}
              component={RouterLink}
              to={route.path}
              label={t(`nav.${route.nav!.label}`)}
              leftSection={<Icon size={18} />}
              active={active}
              onClick={close}
            />
          );
        })}
      </AppShell.Navbar>
      <AppShell.Main>
        <ConnectionNotice />
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
