import { Alert, Button, Group, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { describeError, NetworkError } from "../lib/errors";

/** Explains a failed load or save: 403 says which role is needed, a lost connection offers a retry. */
export function ErrorAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  const { title, message } = describeError(error, t);
  return (
    <Alert color={error instanceof NetworkError ? "yellow" : "red"} title={title} role="alert">
      <Group justify="space-between" wrap="nowrap">
        <Text size="sm">{message}</Text>
        {onRetry && (
          <Button size="xs" variant="light" onClick={onRetry}>
            {t("actions.retry")}
          </Button>
        )}
      </Group>
    </Alert>
  );
}

