// Pipeline value by stage as a table with a bar per row (Mantine's Progress, no chart library: the
// dashboard is the first screen and its initial JavaScript stays small). The figures are the table's text;
// the bars only repeat them visually, so they are hidden from assistive technology.
import { Progress, Table } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { formatMoney, formatNumber } from "../../lib/format";
import type { Stage } from "./queries";

export interface StageRow {
  stage: Stage;
  value: number;
  count: number;
}

const COLORS: Record<Stage, string> = {
  LEAD: "gray.5",
  QUALIFIED: "blue.5",
  PROPOSAL: "indigo.5",
  NEGOTIATION: "violet.6",
  WON: "teal.6",
  LOST: "red.4",
};

export function PipelineBars({ stages, currency }: { stages: StageRow[]; currency: string }) {
  const { t } = useTranslation("dashboard");
  const largest = Math.max(0, ...stages.map((s) => s.value));
  return (
    <Table aria-label={t("pipelineTable")} verticalSpacing={6}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{t("stage")}</Table.Th>
          <Table.Th ta="right">{t("deals")}</Table.Th>
          <Table.Th w="40%" aria-hidden="true" />
          <Table.Th ta="right">{t("value")}</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {stages.map((s) => (
          <Table.Tr key={s.stage} data-testid="pipeline-stage">
            <Table.Th scope="row" fw="normal">
              {t(`common:stage.${s.stage}`)}
            </Table.Th>
            <Table.Td ta="right">{formatNumber(s.count)}</Table.Td>
            <Table.Td aria-hidden="true">
              <Progress value={largest > 0 ? (s.value / largest) * 100 : 0} color={COLORS[s.stage]} size="lg" radius="sm" />
            </Table.Td>
            <Table.Td ta="right">{formatMoney(s.value, currency)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
