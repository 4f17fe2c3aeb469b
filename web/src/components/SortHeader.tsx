// A column header that sorts its list on the server: a button inside the <th>, the order said by aria-sort
// (only on the sorted column, as ARIA asks) and by an arrow.
import { Group, Table, Text, UnstyledButton } from "@mantine/core";
import { IconArrowDown, IconArrowUp, IconSelector } from "@tabler/icons-react";
import { useState, type ReactNode } from "react";
import { parseSort, sortParam, toggleSort, type Sort } from "../lib/sort";

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

/**
 * A list's sort held by the screen itself (where the URL is not the place: several lists on one page), and its
 * headers. Until a header is clicked no `sort` is sent and the API's own order applies, which `apiDefault`
 * shows. `onChange` runs on each new sort (back to the first page).
 */
export function useListSort<F extends string>(fields: readonly F[], apiDefault: NoInfer<`${F}` | `-${F}`>, onChange?: () => void) {
  const [chosen, setChosen] = useState<Sort<F> | null>(null);
  const shown = chosen ?? parseSort(null, fields, apiDefault);
  const header = (field: F, label: ReactNode) => (
    <SortHeader
      field={field}
      sort={shown}
      onSort={(next) => {
        setChosen(next);
        onChange?.();
      }}
    >
      {label}
    </SortHeader>
  );
  return { param: chosen ? sortParam(chosen) : undefined, header };
}
