import { Group, SegmentedControl, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { formatDay, formatMoney, formatNumber, formatPercent } from "../../lib/format";
import { addDays, isoDay, parseDay } from "../../lib/days";
import { countRows, pipelineRows } from "./figures";
import { useApprovalReport, useCustomerReport, useSalesSummary, useTaskReport } from "./queries";
import { AreaChart, BarChart, Chart, DonutChart, ReportCard, Stat } from "./ReportCard";
import { useUrlState } from "../../lib/urlState";

const COLORS = ["blue.6", "teal.6", "grape.6", "orange.6", "red.6", "cyan.6", "lime.6", "gray.6"];
const STATUS_COLORS: Record<string, string> = { PENDING: "yellow.6", APPROVED: "teal.6", REJECTED: "red.6", RECALLED: "gray.5", CANCELLED: "gray.7" };

export default function ReportsPage() {
  const { t } = useTranslation("reports");
  const [params, update] = useUrlState();
  const today = new Date();
  // The period lives in the URL: ?from=&to= (the last 30 days when absent), or ?period=all for all time.
  const allTime = params.get("period") === "all";
  const from = allTime ? "" : (params.get("from") ?? isoDay(addDays(today, -29)));
  const to = allTime ? "" : (params.get("to") ?? isoDay(today));
  const setRange = (next: { from: string; to: string }) => {
    // A day typed past the other end moves that end along (the API refuses from after to).
    if (next.from && next.to && next.from > next.to) {
      if (next.from !== from) next.to = next.from;
      else next.from = next.to;
    }
    const valid = (day: string) => (parseDay(day) ? day : null);
    update({ period: null, from: valid(next.from), to: valid(next.to) });
  };
  const preset = (value: string) => {
    if (value === "all") {
      update({ from: null, to: null, period: "all" });
    } else setRange({ from: isoDay(addDays(today, -(Number(value) - 1))), to: isoDay(today) });
  };
  const presetValue = allTime ? "all" : to === isoDay(today) ? (from === isoDay(addDays(today, -6)) ? "7" : from === isoDay(addDays(today, -29)) ? "30" : "") : "";

  const period = { from, to };
  const sales = useSalesSummary(period);
  const customers = useCustomerReport(period);
  const approvals = useApprovalReport(period);
  const tasks = useTaskReport(period);
  const money = (values: { currency: string; value: string }[]) =>
    values.length ? values.map((v) => formatMoney(v.value, v.currency)).join(" · ") : formatMoney(0);

  return (
    <Stack>
      <Title order={2}>{t("title")}</Title>
      <Group align="flex-end" wrap="wrap" role="group" aria-label={t("period")}>
        <SegmentedControl
          aria-label={t("presets")}
          value={presetValue}
          onChange={preset}
          data={[
            { value: "7", label: t("last7") },
            { value: "30", label: t("last30") },
            { value: "all", label: t("allTime") },
          ]}
        />
        <TextInput label={t("from")} type="date" value={from} max={to || undefined} onChange={(e) => setRange({ from: e.currentTarget.value, to })} w={170} />
        <TextInput label={t("to")} type="date" value={to} min={from || undefined} onChange={(e) => setRange({ from, to: e.currentTarget.value })} w={170} />
      </Group>
      <Text size="sm" c="dimmed">
        {t("periodNote")}
      </Text>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <ReportCard title={t("sales.title")} query={sales}>
          {(s) => {
            const { rows, currencies } = pipelineRows(s);
            const described = rows
              .filter((r) => Number(r.count) > 0)
              .map((r) => `${t(`common:stage.${r.stage}`)}: ${currencies.map((c) => formatMoney(Number(r[c]) || 0, c)).join(", ")} (${t("sales.deals", { count: Number(r.count) })})`)
              .join("; ");
            return (
              <>
                <SimpleGrid cols={{ base: 2, sm: 4 }} component="dl" m={0}>
                  <Stat label={t("sales.won")} value={formatNumber(s.dealsWon)} />
                  <Stat label={t("sales.lost")} value={formatNumber(s.dealsLost)} />
                  <Stat label={t("sales.winRate")} value={formatPercent(s.winRate)} testId="win-rate" />
                  <Stat label={t("sales.valueWon")} value={money(s.valueWon)} testId="value-won" />
                </SimpleGrid>
                <Text size="sm">
                  {t("sales.openValue")}: <b>{money(s.openValue)}</b>
                </Text>
                {currencies.length === 0 ? (
                  <Text c="dimmed">{t("sales.empty")}</Text>
                ) : (
                  <Chart label={t("sales.chart", { figures: described })} height={260}>
                    <BarChart
                      h={260}
                      data={rows.map((r) => ({ ...r, stage: t(`common:stage.${r.stage}`) }))}
                      dataKey="stage"
                      series={currencies.map((c, i) => ({ name: c, color: COLORS[i % COLORS.length] }))}
                      valueFormatter={(v) => formatNumber(v)}
                      withLegend={currencies.length > 1}
                    />
                  </Chart>
                )}
              </>
            );
          }}
        </ReportCard>

        <ReportCard title={t("tasks.title")} query={tasks}>
          {(r) => {
            const priorities = ["URGENT", "HIGH", "MEDIUM", "LOW"]
              .filter((p) => r.byPriority[p])
              .map((p) => ({ priority: t(`common:priority.${p}`), ...r.byPriority[p] }));
            const kinds = Object.entries(r.byKind).sort((a, b) => b[1].created - a[1].created);
            return (
              <>
                <SimpleGrid cols={3} component="dl" m={0}>
                  <Stat label={t("tasks.rate")} value={formatPercent(r.completionRate)} testId="completion-rate" />
                  <Stat label={t("tasks.created")} value={formatNumber(r.created)} />
                  <Stat label={t("tasks.completed")} value={formatNumber(r.completed)} />
                  <Stat label={t("tasks.cancelled")} value={formatNumber(r.cancelled)} />
                  <Stat label={t("tasks.open")} value={formatNumber(r.open)} />
                  <Stat label={t("tasks.overdue")} value={<span className={r.overdue ? "overdue" : undefined}>{formatNumber(r.overdue)}</span>} />
                </SimpleGrid>
                {priorities.length === 0 ? (
                  <Text c="dimmed">{t("tasks.empty")}</Text>
                ) : (
                  <Chart
                    label={t("tasks.chart", {
                      figures: priorities.map((p) => t("tasks.ofCreated", { what: p.priority, done: formatNumber(p.completed), all: formatNumber(p.created) })).join(", "),
                    })}
                    height={200}
                  >
                    <BarChart
                      h={200}
                      type="stacked"
                      data={priorities}
                      dataKey="priority"
                      withLegend
                      series={[
                        { name: "completed", label: t("tasks.completed"), color: "teal.6" },
                        { name: "open", label: t("tasks.open"), color: "blue.6" },
                        { name: "cancelled", label: t("tasks.cancelled"), color: "gray.5" },
                      ]}
                      valueFormatter={(v) => formatNumber(v)}
                    />
                  </Chart>
                )}
                {kinds.length > 0 && (
                  <Text size="sm" c="dimmed">
                    {t("tasks.byKind")}: {kinds.map(([kind, c]) => t("tasks.ofCreated", { what: t(`tasks:kinds.${kind}`, { defaultValue: kind }), done: formatNumber(c.completed), all: formatNumber(c.created) })).join(" · ")}
                  </Text>
                )}
              </>
            );
          }}
        </ReportCard>

        <ReportCard title={t("customers.title")} query={customers}>
          {(r) => {
            const days = r.createdPerDay; // the server's: the period's days, or the last 30 for all time
            const created = r.total + r.deleted; // created in the period: those still here and those in the bin
            const perDay = days.reduce((sum, d) => sum + d.count, 0);
            const named = (key: string, label: string) => (key === "UNSPECIFIED" || key === "" ? t("unspecified") : label);
            const industries = countRows(r.byIndustry)
              .slice(0, 8)
              .map((i) => ({ ...i, name: named(i.name, i.name) }));
            const sizes = countRows(r.bySize).map((s) => ({ ...s, name: named(s.name, t(`customers:sizes.${s.name}`, { defaultValue: s.name })) }));
            return (
              <>
                <SimpleGrid cols={{ base: 2, sm: 4 }} component="dl" m={0}>
                  <Stat label={t(allTime ? "customers.createdAllTime" : "customers.createdInPeriod")} value={formatNumber(created)} testId="customers-created" />
                  <Stat label={t("customers.total")} value={formatNumber(r.total)} testId="customers-total" />
                  <Stat label={t("customers.deleted")} value={formatNumber(r.deleted)} />
                  <Stat label={t("customers.restored")} value={formatNumber(r.restored)} />
                </SimpleGrid>
                {days.length === 0 ? (
                  <Text c="dimmed">{t("customers.noDays")}</Text>
                ) : (
                  <Chart label={t(allTime ? "customers.perDayChartLast30" : "customers.perDayChart", { count: perDay, formatted: formatNumber(perDay) })} height={180}>
                    <AreaChart
                      h={180}
                      data={days.map((d) => ({ day: formatDay(parseDay(d.day)), count: d.count }))}
                      dataKey="day"
                      series={[{ name: "count", label: t("customers.created"), color: "teal.6" }]}
                      curveType="monotone"
                      valueFormatter={(v) => formatNumber(v)}
                    />
                  </Chart>
                )}
                <SimpleGrid cols={{ base: 1, sm: 2 }}>
                  <Chart
                    label={t("customers.industryChart", { figures: industries.map((i) => `${i.name}: ${formatNumber(i.count)}`).join(", ") })}
                    height={200}
                    heading={
                      <Text size="sm" fw={600}>
                        {t("customers.byIndustry")}
                      </Text>
                    }
                  >
                    <BarChart h={200} data={industries} dataKey="name" orientation="vertical" yAxisProps={{ width: 110 }} series={[{ name: "count", label: t("customers.count"), color: "blue.6" }]} valueFormatter={(v) => formatNumber(v)} />
                  </Chart>
                  <Chart
                    label={t("customers.sizeChart", { figures: sizes.map((s) => `${s.name}: ${formatNumber(s.count)}`).join(", ") })}
                    height={160}
                    heading={
                      <Text size="sm" fw={600}>
                        {t("customers.bySize")}
                      </Text>
                    }
                  >
                    <DonutChart
                      size={160}
                      thickness={24}
                      withLabels
                      withLabelsLine
                      labelsType="value"
                      valueFormatter={(v) => formatNumber(v)}
                      data={sizes.map((s, i) => ({ name: s.name, value: s.count, color: COLORS[i % COLORS.length] }))}
                    />
                  </Chart>
                </SimpleGrid>
              </>
            );
          }}
        </ReportCard>

        <ReportCard title={t("approvals.title")} query={approvals}>
          {(r) => {
            const statuses = countRows(r.byStatus);
            return (
              <>
                <SimpleGrid cols={{ base: 3 }} component="dl" m={0}>
                  <Stat label={t("approvals.total")} value={formatNumber(r.total)} />
                  <Stat label={t("approvals.decided")} value={formatNumber(r.decided)} />
                  <Stat
                    label={t("approvals.averageDecision")}
                    value={r.averageDecisionHours === null ? "—" : t("approvals.hours", { value: formatNumber(Math.round(r.averageDecisionHours * 10) / 10) })}
                    testId="average-decision"
                  />
                </SimpleGrid>
                {statuses.length === 0 ? (
                  <Text c="dimmed">{t("approvals.empty")}</Text>
                ) : (
                  <Chart label={t("approvals.chart", { figures: statuses.map((s) => `${t(`common:approvalStatus.${s.name}`)}: ${formatNumber(s.count)}`).join(", ") })} height={180}>
                    <DonutChart
                      size={180}
                      thickness={28}
                      withLabels
                      withLabelsLine
                      labelsType="value"
                      chartLabel={formatNumber(r.total)}
                      valueFormatter={(v) => formatNumber(v)}
                      data={statuses.map((s) => ({ name: t(`common:approvalStatus.${s.name}`), value: s.count, color: STATUS_COLORS[s.name] ?? "gray.6" }))}
                    />
                  </Chart>
                )}
              </>
            );
          }}
        </ReportCard>
      </SimpleGrid>
    </Stack>
  );
}
