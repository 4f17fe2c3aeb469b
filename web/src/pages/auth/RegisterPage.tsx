import { Anchor, Button, PasswordInput, SegmentedControl, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useNavigate } from "react-router";
import { ErrorAlert } from "../../components/ErrorAlert";
import { register, useSession } from "../../lib/auth";
import { showFieldErrors } from "../../lib/forms";
import { AuthCard } from "./AuthCard";
import { useNextPath } from "./useNextPath";

const FIELDS = ["name", "email", "password", "role"] as const;

export default function RegisterPage() {
  const { t } = useTranslation("auth");
  const session = useSession();
  const next = useNextPath();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const form = useForm({
    initialValues: { name: "", email: "", password: "", role: "USER" as "USER" | "SALES" },
  });

  if (session) return <Navigate to={next} replace />;

  const submit = form.onSubmit(async (values) => {
    setError(null);
    try {
      await register(values);
      navigate(next, { replace: true });
    } catch (e) {
      if (!showFieldErrors(form, e, FIELDS)) setError(e);
    }
  });

  return (
    <AuthCard title={t("registerTitle")}>
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput label={t("name")} autoComplete="name" required {...form.getInputProps("name")} />
          <TextInput label={t("email")} type="email" autoComplete="email" required {...form.getInputProps("email")} />
          <PasswordInput
            label={t("password")}
            description={t("passwordHint")}
            autoComplete="new-password"
            required
            {...form.getInputProps("password")}
          />
          <Stack gap={4}>
            <Text size="sm" fw={500} id="register-role">
              {t("role")}
            </Text>
            <SegmentedControl
              aria-labelledby="register-role"
              data={[
                { value: "USER", label: t("roleUser") },
                { value: "SALES", label: t("roleSales") },
              ]}
              {...form.getInputProps("role")}
            />
            {form.errors.role && (
              <Text size="xs" c="red">
                {form.errors.role}
              </Text>
            )}
          </Stack>
          {error ? <ErrorAlert error={error} /> : null}
          <Button type="submit" loading={form.submitting}>
            {t("register")}
          </Button>
        </Stack>
      </form>
      <Text size="sm">
        {t("haveAccount")}{" "}
        <Anchor component={Link} to="/signin">
          {t("signIn")}
        </Anchor>
      </Text>
    </AuthCard>
  );
}
