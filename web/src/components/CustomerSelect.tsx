import { Select, type SelectProps } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, call } from "../lib/api";
import { useCustomer } from "../pages/customers/queries";

type Props = Omit<SelectProps, "data" | "value" | "onChange" | "searchable" | "searchValue" | "onSearchChange" | "filter"> & {
  value?: string | null;
  onChange?: (value: string | null) => void;
};

/**
 * Picks one of the customers the caller may see, searching on the server (`q`) as the user types; the
 * chosen customer keeps its name even when it is not among the results shown.
 */
export function CustomerSelect({ value = null, onChange, ...props }: Props) {
  const { t } = useTranslation();
  const [search, setSearch] = useState("");
  const [chosen, setChosen] = useState<{ id: string; name: string } | null>(null);
  const options = [] as { value: string; label: string }[];
  const chosenLabel = value && chosen?.id === value ? chosen.name : undefined;
  const [q] = useDebouncedValue(search === chosenLabel ? "" : search.trim(), 300);
  const found = useQuery({
    queryKey: ["customers", "pick", q],
    queryFn: () => call(() => api.GET("/api/customers", { params: { query: { q: q || undefined, limit: 20 } } })),
    placeholderData: keepPreviousData,
  });
  for (const c of found.data?.items ?? []) options.push({ value: c.id, label: c.name });
  if (value && chosenLabel && !options.some((o) => o.value === value)) options.unshift({ value, label: chosenLabel });
  return (
    <>
      {value && chosen?.id !== value ? <KnownCustomer id={value} onLoaded={setChosen} /> : null}
      <Select
        {...props}
        searchable
        data={options}
        value={value}
        onChange={(next, option) => {
          if (next && option) setChosen({ id: next, name: option.label });
          onChange?.(next);
        }}
        searchValue={search}
        onSearchChange={setSearch}
        filter={({ options: all }) => all}
        nothingFoundMessage={found.isFetching ? t("loading") : t("nothingFound")}
      />
    </>
  );
}

function KnownCustomer({ id, onLoaded }: { id: string; onLoaded: (c: { id: string; name: string }) => void }) {
  const customer = useCustomer(id);
  useEffect(() => {
    if (customer.data) onLoaded({ id, name: customer.data.name });
  }, [customer.data, id, onLoaded]);
  return null;
}

/** A customer's name from its id (cached per customer), for lists of things that only carry the id. */
export function CustomerName({ id }: { id: string }) {
  const customer = useCustomer(id);
  return <>{customer.error ? "—" : (customer.data?.name ?? "…")}</>;
}
