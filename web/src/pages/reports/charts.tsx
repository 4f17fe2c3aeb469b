// The reports' chart components (Mantine charts on recharts, the app's largest dependency), in ONE module that
// ReportCard loads lazily: the screen's figures paint first, the charts arrive with this chunk.
import "@mantine/charts/styles.css";

export { AreaChart, BarChart, DonutChart } from "@mantine/charts";
