import { Button, Group, Select, Stack, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorAlert } from "../../components/ErrorAlert";
import { showFieldErrors } from "../../lib/forms";
import { SIZES, type Customer, type CustomerInput } from "./queries";

const FIELDS = ["name", "email", "phone", "industry", "size"] as const;

/**
 * Create or edit a customer. When the save fails the form keeps what was typed: field errors (422) appear
 * beside their fields, anything else above the buttons.
 */
export function CustomerForm({
  customer,
  onSubmit,
  onCancel,
}: {
  customer?: Customer;
  onSubmit: (values: CustomerInput) => Promise<unknown>;
  onCancel: () => void;
}) {
  const { t } = useTranslation("customers");
  const [error, setError] = useState<unknown>(null);
  const form = useForm({
    initialValues: {
      name: customer?.name ?? "",
      email: customer?.email ?? "",
      phone: customer?.phone ?? "",
      industry: customer?.industry ?? "",
      size: (customer?.size ?? null) as CustomerInput["size"],
    },
    validate: { name: (v) => (v.trim() ? null : t("nameRequired")) },
  });

  const submit = form.onSubmit(async (values) => {
    setError(null);
    try {
      await onSubmit(values);
    } catch (e) {
      if (!showFieldErrors(form, e, FIELDS)) setError(e);
    }
  });

  return (
    <form onSubmit={submit} noValidate aria-label={customer ? t("editTitle") : t("createTitle")}>
      <Stack>
        <TextInput label={t("fields.name")} required data-autofocus {...form.getInputProps("name")} />
        <TextInput label={t("fields.email")} type="email" {...form.getInputProps("email")} />
        <TextInput label={t("fields.phone")} type="tel" {...form.getInputProps("phone")} />
        <TextInput label={t("fields.industry")} {...form.getInputProps("industry")} />
        <Select
          label={t("fields.size")}
          clearable
          data={SIZES.map((s) => ({ value: s, label: t(`sizes.${s}`) }))}
          {...form.getInputProps("size")}
        />
        {error ? <ErrorAlert error={error} /> : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t("common:actions.cancel")}
          </Button>
          <Button type="submit" loading={form.submitting}>
            {t("common:actions.save")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
