import { ActionIcon, Button, Group, Modal, Select, Stack, Table, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { IconPencil, IconPlus, IconSearch, IconTrash } from "@tabler/icons-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorAlert } from "../../components/ErrorAlert";
import { useListSort } from "../../components/SortHeader";
import { EmptyRow, ListFooter } from "../../components/ListParts";
import { useSession } from "../../lib/auth";
import { formatDate, formatNumber } from "../../lib/format";
import { notifySaved } from "../../lib/notify";
import type { Role } from "../../lib/session";
import { ROLES, useAllUsers, useCreateUser, useDeleteUser, useUpdateUser, useUsers, type User } from "./queries";
import { UserForm } from "./UserForm";

const PAGE_SIZE = 25;

/** ADMIN: every account, searchable by name/email and filtered by role; create, change role/manager, delete. */
export function UsersPanel() {
  const { t } = useTranslation("admin");
  const me = useSession()?.user.id;
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search.trim(), 300);
  const [role, setRole] = useState<Role | undefined>();
  const [page, setPage] = useState(1);
  const sort = useListSort(["name", "email", "role", "createdAt"] as const, "createdAt", () => setPage(1));
  const [editing, setEditing] = useState<{ user?: User } | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const list = useUsers({ q: q || undefined, role, sort: sort.param, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
  const everyone = useAllUsers();
  const create = useCreateUser();
  const change = useUpdateUser();
  const remove = useDeleteUser();
  const names = new Map((everyone.data?.items ?? []).map((u) => [u.id, u.name]));
  const rows = list.data?.items ?? [];
  const total = list.data?.total ?? 0;

  const removeUser = async (user: User) => {
    if (!window.confirm(t("confirmDelete", { name: user.name }))) return;
    setFailure(null);
    try {
      await remove.mutateAsync(user.id);
      notifySaved(t("userDeleted", { name: user.name }));
    } catch (e) {
      setFailure(e); // 409: the last ADMIN, or yourself — said above the table, where the user is looking
    }
  };

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Group align="flex-end">
          <TextInput
            label={t("search")}
            leftSection={<IconSearch size={16} />}
            value={search}
            onChange={(e) => {
              setSearch(e.currentTarget.value);
              setPage(1);
            }}
            w={260}
          />
          <Select
            label={t("role")}
            placeholder={t("anyRole")}
            clearable
            value={role ?? null}
            onChange={(v) => {
              setRole((v as Role | null) ?? undefined);
              setPage(1);
            }}
            data={ROLES.map((r) => ({ value: r, label: t(`common:roles.${r}`) }))}
            w={170}
          />
        </Group>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing({})}>
          {t("newUser")}
        </Button>
      </Group>
      {failure ? <ErrorAlert error={failure} /> : null}
      {list.error ? <ErrorAlert error={list.error} onRetry={() => void list.refetch()} /> : null}
      <Table.ScrollContainer minWidth={700}>
        <Table aria-label={t("users")} striped aria-busy={list.isFetching}>
          <Table.Thead>
            <Table.Tr>
              {sort.header("name", t("name"))}
              {sort.header("email", t("email"))}
              {sort.header("role", t("role"))}
              <Table.Th>{t("manager")}</Table.Th>
              {sort.header("createdAt", t("created"))}
              <Table.Th>{t("common:actions.label")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((u) => (
              <Table.Tr key={u.id} data-testid="user-row">
                <Table.Td>{u.name}</Table.Td>
                <Table.Td>{u.email}</Table.Td>
                <Table.Td>{t(`common:roles.${u.role}`)}</Table.Td>
                <Table.Td>{u.managerId ? (names.get(u.managerId) ?? "…") : "—"}</Table.Td>
                <Table.Td>{formatDate(u.createdAt)}</Table.Td>
                <Table.Td>
                  <Group gap={4} wrap="nowrap">
                    <ActionIcon variant="subtle" aria-label={t("editOf", { name: u.name })} onClick={() => setEditing({ user: u })}>
                      <IconPencil size={18} />
                    </ActionIcon>
                    {u.id !== me && (
                      <ActionIcon variant="subtle" color="red" aria-label={t("deleteOf", { name: u.name })} onClick={() => void removeUser(u)}>
                        <IconTrash size={18} />
                      </ActionIcon>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
            {!list.isLoading && !list.error && rows.length === 0 && <EmptyRow colSpan={6}>{t("noUsers")}</EmptyRow>}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <ListFooter count={t("userCount", { count: total, formatted: formatNumber(total) })} total={total} pageSize={PAGE_SIZE} page={page} onPage={setPage} />
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing?.user ? t("editUser") : t("newUser")}>
        {editing && (
          <UserForm
            user={editing.user}
            users={everyone.data?.items ?? []}
            onCancel={() => setEditing(null)}
            onSubmit={async (values) => {
              if (editing.user) {
                const saved = await change.mutateAsync({ id: editing.user.id, body: { name: values.name, role: values.role, managerId: values.managerId ?? null } });
                notifySaved(t("userSaved", { name: saved.name }));
              } else {
                const saved = await create.mutateAsync({ ...values, managerId: values.managerId ?? null });
                notifySaved(t("userCreated", { name: saved.name }));
              }
              setEditing(null);
            }}
          />
        )}
      </Modal>
    </Stack>
  );
}
