import { Alert, Anchor, Button, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useNavigate } from "react-router";
import { ErrorAlert } from "../../components/ErrorAlert";
import { signIn, useSession, useSessionExpired } from "../../lib/auth";
import { ApiError } from "../../lib/errors";
import { showFieldErrors } from "../../lib/forms";
import { AuthCard } from "./AuthCard";
import { useNextPath } from "./useNextPath";

export default function SignInPage() {
  const { t } = useTranslation("auth");
  const session = useSession();
  const expired = useSessionExpired();
  const next = useNextPath();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const form = useForm({ initialValues: { email: "", password: "" } });

  if (session) return <Navigate to={next} replace />;

  const submit = form.onSubmit(async (values) => {
    setError(null);
    try {
      await signIn(values);
      navigate(next, { replace: true });
    } catch (e) {
      if (!showFieldErrors(form, e, ["email", "password"])) setError(e);
    }
  });

  return (
    <AuthCard title={t("signInTitle")}>
      {expired && (
        <Alert color="blue" role="status">
          {t("expired")}
        </Alert>
      )}
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput label={t("email")} type="email" autoComplete="username" required {...form.getInputProps("email")} />
          <PasswordInput label={t("password")} autoComplete="current-password" required {...form.getInputProps("password")} />
          {error instanceof ApiError && error.status === 401 ? (
            <Alert color="red" role="alert">
              {t("badCredentials")}
            </Alert>
          ) : error ? (
            <ErrorAlert error={error} />
          ) : null}
          <Button type="submit" loading={form.submitting}>
            {t("signIn")}
          </Button>
        </Stack>
      </form>
      <Text size="sm">
        {t("noAccount")}{" "}
        <Anchor component={Link} to={`/register${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`}>
          {t("register")}
        </Anchor>
      </Text>
    </AuthCard>
  );
}
