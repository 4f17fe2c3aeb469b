// A column header that sorts its list on the server: a button inside the <th>, the order said by aria-sort
// (only on the sorted column, as ARIA asks) and by an arrow.
import { Group, Table, Text, UnstyledButton } from "@mantine/core";
import { IconArrowDown, IconArrowUp, IconSelector } from "@tabler/icons-react";
import type { ReactNode } from "react";
import { toggleSort, type Sort } from "../lib/sort";

export function SortHeader<F extends string>({
  field,
  sort,
  onSort,
  children,
  w,
}: {
  field: F;
  sort: Sort<F>;
  onSort: (next: Sort<F>) => void;
  children: ReactNode;
  w?: number | string;
}) {
  const active = sort.field === field;
  const Icon = !active ? IconSelector : sort.desc ? IconArrowDown : IconArrowUp;
  return (
    <Table.Th w={w} aria-sort={active ? (sort.desc ? "descending" : "ascending") : undefined}>
      <UnstyledButton onClick={() => onSort(toggleSort(sort, field))}>
        <Group gap={4} wrap="nowrap">
          <Text fw={600} size="sm">
            {children}
          </Text>
          <Icon size={14} aria-hidden="true" opacity={active ? 1 : 0.4} />
        </Group>
      </UnstyledButton>
    </Table.Th>
  );
}
