import { Group, NumberInput, Select, Stack, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { CustomerSelect } from "../../components/CustomerSelect";
import { FormActions } from "../../components/ListParts";
import { showFieldErrors } from "../../lib/forms";
import { STAGES, type ApprovalInput, type Deal, type DealInput, type Stage } from "./queries";

export function DealForm({ onSubmit, onCancel }: { onSubmit: (v: DealInput) => Promise<unknown>; onCancel: () => void }) {
  const { t } = useTranslation("deals");
  const [error, setError] = useState<unknown>(null);
  const form = useForm({
    initialValues: { customerId: null as string | null, name: "", amount: "" as string | number, currency: "JPY", stage: "LEAD" as Stage },
  });
  const submit = form.onSubmit(async (v) => {
    setError(null);
    try {
      // No customer chosen: the server's 422 names the field.
      await onSubmit({ customerId: v.customerId ?? "", name: v.name, amount: String(v.amount), currency: v.currency, stage: v.stage });
    } catch (e) {
      if (!showFieldErrors(form, e, ["customerId", "name", "amount", "currency", "stage"])) setError(e);
    }
  });
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <CustomerSelect label={t("customer")} required {...form.getInputProps("customerId")} />
        <TextInput label={t("name")} required {...form.getInputProps("name")} />
        <Group grow>
          <NumberInput label={t("amount")} required min={0} decimalScale={2} {...form.getInputProps("amount")} />
          <TextInput label={t("currency")} maxLength={3} {...form.getInputProps("currency")} />
        </Group>
        <Select label={t("stage")} allowDeselect={false} data={STAGES.map((s) => ({ value: s, label: t(`common:stage.${s}`) }))} {...form.getInputProps("stage")} />
        <FormActions error={error} submitting={form.submitting} onCancel={onCancel} />
      </Stack>
    </form>
  );
}

export function ApprovalRequestForm({ deal, onSubmit, onCancel }: { deal: Deal; onSubmit: (v: ApprovalInput) => Promise<unknown>; onCancel: () => void }) {
  const { t } = useTranslation("deals");
  const [error, setError] = useState<unknown>(null);
  const form = useForm({
    initialValues: { title: t("approvalDefaultTitle", { name: deal.name }), reason: "", approverRole: "MANAGER" as ApprovalInput["approverRole"] },
  });
  const submit = form.onSubmit(async (v) => {
    setError(null);
    try {
      await onSubmit({ opportunityId: deal.id, title: v.title, reason: v.reason || null, approverRole: v.approverRole });
    } catch (e) {
      if (!showFieldErrors(form, e, ["title", "reason", "approverRole"])) setError(e);
    }
  });
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <TextInput label={t("approvalTitle")} required {...form.getInputProps("title")} />
        <Textarea label={t("reason")} autosize minRows={2} {...form.getInputProps("reason")} />
        <Select
          label={t("approver")}
          allowDeselect={false}
          data={(["MANAGER", "ADMIN", "COMPLIANCE"] as const).map((r) => ({ value: r, label: t(`common:roles.${r}`) }))}
          {...form.getInputProps("approverRole")}
        />
        <FormActions error={error} submitting={form.submitting} onCancel={onCancel} submitLabel={t("requestApproval")} />
      </Stack>
    </form>
  );
}
