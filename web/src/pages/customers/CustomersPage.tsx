import {
  ActionIcon,
  Anchor,
  Badge,
  Button,
  Group,
  Modal,
  Pagination,
  Select,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { IconPlus, IconRestore, IconSearch, IconTrash } from "@tabler/icons-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { ErrorAlert } from "../../components/ErrorAlert";
import { SortHeader } from "../../components/SortHeader";
import { useSession } from "../../lib/auth";
import { formatDate, formatNumber } from "../../lib/format";
import { notifyFailure, notifySaved } from "../../lib/notify";
import { can, WRITERS } from "../../lib/roles";
import { parseSort, sortParam } from "../../lib/sort";
import { useUrlState } from "../../lib/urlState";
import { CustomerForm } from "./CustomerForm";
import { SIZES, useCreateCustomer, useCustomers, useDeleteCustomer, useRestoreCustomer, type CompanySize, type Customer } from "./queries";

const PAGE_SIZE = 20;
const SORTABLE = ["name", "industry", "size", "createdAt"] as const;

export default function CustomersPage() {
  const { t } = useTranslation("customers");
  const session = useSession();
  const writer = can(session?.user.role, WRITERS);
  const navigate = useNavigate();
  // The list's state lives in the URL: a reload, a shared link or "back" shows the same page.
  const [params, update] = useUrlState();
  const page = Math.max(1, Number(params.get("page") ?? 1));
  const size = (params.get("size") as CompanySize | null) ?? undefined;
  const deleted = params.get("deleted") === "1";
  // Sorted by the API before it pages (`?sort=-createdAt`, the API's spelling): newest first unless chosen.
  const sort = parseSort(params.get("sort"), SORTABLE, "-createdAt");
  const [search, setSearch] = useState(params.get("q") ?? "");
  const [industry, setIndustry] = useState(params.get("industry") ?? "");
  const [q] = useDebouncedValue(search.trim(), 300);
  const [industryFilter] = useDebouncedValue(industry.trim(), 300);
  const [creating, setCreating] = useState(false);

  const list = useCustomers({
    q: q || undefined,
    industry: industryFilter || undefined,
    size,
    deleted,
    sort: sortParam(sort),
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
  });
  const create = useCreateCustomer();
  const remove = useDeleteCustomer();
  const restore = useRestoreCustomer();

  const rows = list.data?.items ?? [];
  const total = list.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  const header = (field: (typeof SORTABLE)[number]) => (
    <SortHeader field={field} sort={sort} onSort={(next) => update({ sort: sortParam(next), page: null })}>
      {t(`fields.${field}`)}
    </SortHeader>
  );

  const act = async (customer: Customer, action: "delete" | "restore") => {
    try {
      if (action === "delete") {
        if (!window.confirm(t("confirmDelete", { name: customer.name }))) return;
        await remove.mutateAsync(customer.id);
        notifySaved(t("deleted", { name: customer.name }));
      } else {
        await restore.mutateAsync(customer.id);
        notifySaved(t("restored", { name: customer.name }));
      }
    } catch (e) {
      notifyFailure(e);
    }
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{deleted ? t("binTitle") : t("title")}</Title>
        {writer && !deleted && (
          <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
            {t("new")}
          </Button>
        )}
      </Group>
      <Group align="flex-end" wrap="wrap">
        <TextInput
          label={t("search")}
          placeholder={t("searchPlaceholder")}
          leftSection={<IconSearch size={16} />}
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            update({ q: e.currentTarget.value, page: null });
          }}
          w={280}
        />
        <TextInput
          label={t("fields.industry")}
          value={industry}
          onChange={(e) => {
            setIndustry(e.currentTarget.value);
            update({ industry: e.currentTarget.value, page: null });
          }}
          w={180}
        />
        <Select
          label={t("fields.size")}
          clearable
          value={size ?? null}
          onChange={(v) => update({ size: v, page: null })}
          data={SIZES.map((s) => ({ value: s, label: t(`sizes.${s}`) }))}
          w={160}
        />
        <Switch
          label={t("showDeleted")}
          checked={deleted}
          onChange={(e) => update({ deleted: e.currentTarget.checked ? "1" : null, page: null })}
          mb={8}
        />
      </Group>
      {list.error ? <ErrorAlert error={list.error} onRetry={() => void list.refetch()} /> : null}
      <Table.ScrollContainer minWidth={700}>
        <Table striped highlightOnHover aria-label={t("title")} aria-busy={list.isFetching}>
          <Table.Thead>
            <Table.Tr>
              {header("name")}
              <Table.Th>{t("fields.email")}</Table.Th>
              <Table.Th>{t("fields.phone")}</Table.Th>
              {header("industry")}
              {header("size")}
              {header("createdAt")}
              {writer && <Table.Th>{t("common:actions.label")}</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((c) => (
              <Table.Tr key={c.id} data-testid="customer-row">
                <Table.Td>
                  <Anchor component={Link} to={`/customers/${c.id}`}>
                    {c.name}
                  </Anchor>
                  {c.ownerId === session?.user.id && (
                    <Badge ml="xs" size="xs" variant="light">
                      {t("mine")}
                    </Badge>
                  )}
                </Table.Td>
                <Table.Td>{c.email ?? "—"}</Table.Td>
                <Table.Td>{c.phone ?? "—"}</Table.Td>
                <Table.Td>{c.industry ?? "—"}</Table.Td>
                <Table.Td>{c.size ? t(`sizes.${c.size}`) : "—"}</Table.Td>
                <Table.Td>{formatDate(c.createdAt)}</Table.Td>
                {writer && (
                  <Table.Td>
                    {deleted ? (
                      <ActionIcon variant="subtle" aria-label={t("restore", { name: c.name })} onClick={() => void act(c, "restore")}>
                        <IconRestore size={18} />
                      </ActionIcon>
                    ) : (
                      <ActionIcon variant="subtle" color="red" aria-label={t("delete", { name: c.name })} onClick={() => void act(c, "delete")}>
                        <IconTrash size={18} />
                      </ActionIcon>
                    )}
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
            {!list.isLoading && rows.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={7}>
                  <Text c="dimmed">{t("empty")}</Text>
                </Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {t("count", { count: total, formatted: formatNumber(total) })}
        </Text>
        <Pagination total={pages} value={page} onChange={(p) => update({ page: String(p) })} getControlProps={(control) => ({ "aria-label": t(`common:pagination.${control}`) })} getItemProps={(p) => ({ "aria-label": t("common:pagination.page", { page: p }) })} />
      </Group>
      <Modal opened={creating} onClose={() => setCreating(false)} title={t("createTitle")}>
        <CustomerForm
          onCancel={() => setCreating(false)}
          onSubmit={async (values) => {
            const customer = await create.mutateAsync(values);
            setCreating(false);
            notifySaved(t("created", { name: customer.name }));
            navigate(`/customers/${customer.id}`);
          }}
        />
      </Modal>
    </Stack>
  );
}
