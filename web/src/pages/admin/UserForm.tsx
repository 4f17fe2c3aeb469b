import { PasswordInput, Select, Stack, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { FormActions } from "../../components/ListParts";
import { showFieldErrors } from "../../lib/forms";
import type { Role } from "../../lib/session";
import { ROLES, type User, type UserCreate } from "./queries";

const FIELDS = ["name", "email", "password", "role", "managerId"] as const;

/**
 * Create an account (name, email, password, role, manager) or change one (name, role, manager). A 422 shows
 * beside its field; a 409 (the email is taken, the last ADMIN would lose the role) above the buttons.
 */
export function UserForm({
  user,
  users,
  onSubmit,
  onCancel,
}: {
  user?: User;
  /** candidates for manager */
  users: User[];
  onSubmit: (values: UserCreate) => Promise<unknown>;
  onCancel: () => void;
}) {
  const { t } = useTranslation("admin");
  const [error, setError] = useState<unknown>(null);
  const form = useForm({
    initialValues: {
      name: user?.name ?? "",
      email: user?.email ?? "",
      password: "",
      role: (user?.role ?? "SALES") as Role,
      managerId: user?.managerId ?? (null as string | null),
    },
    validate: {
      name: (v) => (v.trim() ? null : t("nameRequired")),
      email: (v) => (user || /^\S+@\S+$/.test(v) ? null : t("emailInvalid")),
      password: (v) => (user || v.length >= 8 ? null : t("passwordShort")),
    },
  });
  const managers = users
    .filter((u) => u.id !== user?.id)
    .map((u) => ({ value: u.id, label: `${u.name} (${t(`common:roles.${u.role}`)})` }));

  const submit = form.onSubmit(async (values) => {
    setError(null);
    try {
      await onSubmit({ ...values, name: values.name.trim(), email: values.email.trim() });
    } catch (e) {
      if (!showFieldErrors(form, e, FIELDS)) setError(e);
    }
  });

  return (
    <form onSubmit={submit} noValidate aria-label={user ? t("editUser") : t("newUser")}>
      <Stack>
        <TextInput label={t("name")} required data-autofocus {...form.getInputProps("name")} />
        {!user && <TextInput label={t("email")} type="email" required {...form.getInputProps("email")} />}
        {!user && <PasswordInput label={t("password")} description={t("passwordHint")} required {...form.getInputProps("password")} />}
        <Select label={t("role")} allowDeselect={false} data={ROLES.map((r) => ({ value: r, label: t(`common:roles.${r}`) }))} {...form.getInputProps("role")} />
        <Select label={t("manager")} placeholder={t("noManager")} clearable searchable data={managers} {...form.getInputProps("managerId")} />
        <FormActions error={error} submitting={form.submitting} onCancel={onCancel} />
      </Stack>
    </form>
  );
}
