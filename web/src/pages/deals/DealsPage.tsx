import { DndContext, KeyboardSensor, PointerSensor, useDraggable, useDroppable, useSensor, useSensors, type DragEndEvent } from "@dnd-kit/core";
import { Badge, Button, Card, Group, Modal, Paper, ScrollArea, Select, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { IconPlus } from "@tabler/icons-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorAlert } from "../../components/ErrorAlert";
import { useSession } from "../../lib/auth";
import { formatDate, formatMoney } from "../../lib/format";
import { notifyFailure, notifySaved } from "../../lib/notify";
import { can, WRITERS } from "../../lib/roles";
import { ApprovalRequestForm, DealForm } from "./DealForms";
import { STAGES, total, useDealActions, useDeals, type Deal, type Stage } from "./queries";

/** The pipeline: a column per stage with its total; drag a deal (or use its stage menu) to move it. */
export default function DealsPage() {
  const { t } = useTranslation("deals");
  const session = useSession()!;
  const writer = can(session.user.role, WRITERS);
  const deals = useDeals();
  const actions = useDealActions();
  const [creating, setCreating] = useState(false);
  const [asking, setAsking] = useState<Deal | null>(null);
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 6 } }), useSensor(KeyboardSensor));
  const items = deals.data?.items ?? [];
  const currency = items[0]?.currency ?? "JPY";

  const move = (deal: Deal, stage: Stage) => {
    if (stage !== deal.stage) actions.move.mutateAsync({ id: deal.id, stage }).catch(notifyFailure);
  };
  const onDragEnd = (event: DragEndEvent) => {
    const deal = items.find((d) => d.id === event.active.id);
    const stage = event.over?.id as Stage | undefined;
    if (deal && stage) move(deal, stage);
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t("title")}</Title>
        {writer && (
          <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
            {t("new")}
          </Button>
        )}
      </Group>
      {deals.error ? <ErrorAlert error={deals.error} onRetry={() => void deals.refetch()} /> : null}
      <ScrollArea>
        <DndContext sensors={sensors} onDragEnd={onDragEnd}>
          <SimpleGrid cols={6} miw={1200} spacing="sm">
            {STAGES.map((stage) => {
              const inStage = items.filter((d) => d.stage === stage);
              return (
                <Column key={stage} stage={stage} label={t(`common:stage.${stage}`)} sum={formatMoney(total(inStage), currency)} count={inStage.length}>
                  {inStage.map((deal) => (
                    <DealCard key={deal.id} deal={deal} writer={writer} onMove={(s) => move(deal, s)} onAsk={() => setAsking(deal)} />
                  ))}
                </Column>
              );
            })}
          </SimpleGrid>
        </DndContext>
      </ScrollArea>
      <Modal opened={creating} onClose={() => setCreating(false)} title={t("new")}>
        <DealForm
          onCancel={() => setCreating(false)}
          onSubmit={async (v) => {
            const deal = await actions.create.mutateAsync(v);
            setCreating(false);
            notifySaved(t("created", { name: deal.name }));
          }}
        />
      </Modal>
      <Modal opened={asking !== null} onClose={() => setAsking(null)} title={t("requestApproval")}>
        {asking && (
          <ApprovalRequestForm
            deal={asking}
            onCancel={() => setAsking(null)}
            onSubmit={async (v) => {
              await actions.requestApproval.mutateAsync(v);
              setAsking(null);
              notifySaved(t("approvalRequested", { name: asking.name }));
            }}
          />
        )}
      </Modal>
    </Stack>
  );
}

function Column({ stage, label, sum, count, children }: { stage: Stage; label: string; sum: string; count: number; children: React.ReactNode }) {
  const { t } = useTranslation("deals");
  const { setNodeRef, isOver } = useDroppable({ id: stage });
  return (
    <Paper ref={setNodeRef} withBorder p="xs" bg={isOver ? "indigo.0" : "gray.0"} mih={300} role="region" aria-label={label} data-testid={`deal-column-${stage}`}>
      <Group justify="space-between" wrap="nowrap">
        <Title order={3} size="h5">
          {label}
        </Title>
        <Badge variant="light">{count}</Badge>
      </Group>
      <Text size="sm" fw={600} mb="xs" aria-label={t("columnTotal", { stage: label })} data-testid="column-total">
        {sum}
      </Text>
      <Stack gap="xs">{children}</Stack>
    </Paper>
  );
}

function DealCard({ deal, writer, onMove, onAsk }: { deal: Deal; writer: boolean; onMove: (s: Stage) => void; onAsk: () => void }) {
  const { t } = useTranslation("deals");
  const { attributes, listeners, setNodeRef, transform, isDragging } = useDraggable({ id: deal.id, disabled: !writer });
  const style = transform ? { transform: `translate3d(${transform.x}px, ${transform.y}px, 0)`, zIndex: 10 } : undefined;
  const open = deal.stage !== "WON" && deal.stage !== "LOST";
  return (
    <Card ref={setNodeRef} withBorder padding="xs" style={{ ...style, opacity: isDragging ? 0.7 : 1 }} data-testid="deal-card">
      <div {...listeners} {...attributes} aria-label={t("dragDeal", { name: deal.name })} style={{ cursor: writer ? "grab" : undefined }}>
        <Text size="sm" fw={500}>
          {deal.name}
        </Text>
        <Text size="sm">{formatMoney(deal.amount, deal.currency)}</Text>
        <Text size="xs" c="dimmed">
          {t("closes", { date: formatDate(deal.expectedCloseDate) })}
        </Text>
      </div>
      {writer && (
        <Stack gap={4} mt={6}>
          <Select size="xs" aria-label={t("stageOf", { name: deal.name })} data={STAGES.map((s) => ({ value: s, label: t(`common:stage.${s}`) }))} value={deal.stage} allowDeselect={false} onChange={(v) => v && onMove(v as Stage)} />
          {open && (
            <Button size="compact-xs" variant="light" onClick={onAsk} aria-label={t("requestApprovalFor", { name: deal.name })}>
              {t("requestApproval")}
            </Button>
          )}
        </Stack>
      )}
    </Card>
  );
}
