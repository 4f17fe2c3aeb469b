import { Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useSession } from "../../lib/auth";

export default function DashboardPage() {
  const { t } = useTranslation("dashboard");
  const session = useSession();
  return (
    <Stack>
      <Title order={2}>{t("title")}</Title>
      <Text>{t("welcome", { name: session?.user.name })}</Text>
    </Stack>
  );
}
