/**
 * Chart.js with only what the dashboard draws registered (a line for the value, a doughnut for
 * the allocation, stacked bars for income; linear and category scales, the tooltip and the
 * bar chart's legend), so the bundle carries no other controller, scale or plugin. Numeric x
 * axes with Intl-formatted ticks: no date adapter is needed.
 * @module
 */
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  CategoryScale,
  DoughnutController,
  ArcElement,
  BarController,
  BarElement,
  Tooltip,
  Legend,
);

Chart.defaults.font.family =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
Chart.defaults.color = "#55626f";
Chart.defaults.borderColor = "#e8ebef";
Chart.defaults.plugins.legend.display = false;
// Values change every second or so while prices move: each redraw is immediate.
Chart.defaults.animation = false;

export { Chart };
