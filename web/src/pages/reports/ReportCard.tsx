import { Card, Group, Loader, Skeleton, Stack, Text, Title } from "@mantine/core";
import type { UseQueryResult } from "@tanstack/react-query";
import { lazy, Suspense, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { ErrorAlert } from "../../components/ErrorAlert";

/** One report: its title, then a loader, the error (with a retry), or the figures. */
export function ReportCard<T>({ title, query, children }: { title: string; query: UseQueryResult<T>; children: (data: T) => ReactNode }) {
  const { t } = useTranslation();
  return (
    // While another period's figures load, the last ones stay, dimmed and marked busy.
    <Card withBorder padding="md" component="section" aria-label={title} aria-busy={query.isPlaceholderData} opacity={query.isPlaceholderData ? 0.6 : 1}>
      <Title order={3} size="h4" mb="sm">
        {title}
      </Title>
      {query.isLoading ? (
        <Group justify="center" p="lg">
          <Loader aria-label={t("loading")} />
        </Group>
      ) : query.error ? (
        <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      ) : query.data ? (
        <Stack>{children(query.data)}</Stack>
      ) : null}
    </Card>
  );
}

/** A labelled figure; the label is the term, the value its description (read together by screen readers). */
export function Stat({ label, value, testId }: { label: string; value: ReactNode; testId?: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} component="dt">
        {label}
      </Text>
      <Text size="xl" fw={700} component="dd" m={0} data-testid={testId}>
        {value}
      </Text>
    </div>
  );
}

// The chart components, from one lazily loaded module (./charts): its chunk is not part of the screen's first load.
const charts = () => import("./charts");
export const AreaChart = lazy(() => charts().then((m) => ({ default: m.AreaChart })));
export const BarChart = lazy(() => charts().then((m) => ({ default: m.BarChart })));
export const DonutChart = lazy(() => charts().then((m) => ({ default: m.DonutChart })));

/**
 * A chart is an image to assistive technology, described by the same figures in words (there at once); the chart
 * itself (children) is drawn when the chart module has arrived, a skeleton of its height keeping the layout until then.
 */
export function Chart({ label, height, heading, children }: { label: string; height: number; heading?: ReactNode; children: ReactNode }) {
  return (
    <div role="img" aria-label={label}>
      {heading}
      <Suspense fallback={<Skeleton h={height} data-testid="chart-loading" />}>{children}</Suspense>
    </div>
  );
}
