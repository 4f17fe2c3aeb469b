// The pieces every paged table repeats: the empty row, and the footer with the count and the pages.
import { Button, Group, Pagination, Table, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ErrorAlert } from "./ErrorAlert";

/** A row saying the table is empty (shown only when nothing is loading and nothing failed). */
export function EmptyRow({ colSpan, children }: { colSpan: number; children: ReactNode }) {
  return (
    <Table.Tr>
      <Table.Td colSpan={colSpan}>
        <Text c="dimmed">{children}</Text>
      </Table.Td>
    </Table.Tr>
  );
}

/** "n things" and the page buttons, labelled for screen readers in the user's language. */
export function ListFooter({
  count,
  total,
  pageSize,
  page,
  onPage,
}: {
  count?: ReactNode;
  total: number;
  pageSize: number;
  page: number;
  onPage: (page: number) => void;
}) {
  const { t } = useTranslation();
  return (
    <Group justify="space-between">
      <Text size="sm" c="dimmed">
        {count}
      </Text>
      <Pagination
        total={Math.max(1, Math.ceil(total / pageSize))}
        value={page}
        onChange={onPage}
        getControlProps={(control) => ({ "aria-label": t(`pagination.${control}`) })}
        getItemProps={(p) => ({ "aria-label": t("pagination.page", { page: p }) })}
      />
    </Group>
  );
}

/** A form's end: why the save failed (anything not shown beside a field), then Cancel and Save (or `submitLabel`). */
export function FormActions({
  error,
  submitting,
  onCancel,
  submitLabel,
}: {
  error: unknown;
  submitting: boolean;
  onCancel: () => void;
  submitLabel?: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <>
      {error ? <ErrorAlert error={error} /> : null}
      <Group justify="flex-end">
        <Button variant="default" onClick={onCancel}>
          {t("actions.cancel")}
        </Button>
        <Button type="submit" loading={submitting}>
          {submitLabel ?? t("actions.save")}
        </Button>
      </Group>
    </>
  );
}
