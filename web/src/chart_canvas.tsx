/**
 * A Chart.js chart as a Preact component: made once on its canvas, given the new data and
 * options on every render, destroyed with the component. The canvas is an image to assistive
 * technology, named by `label` (a text summary of what it shows).
 * @module
 */
import type { ChartConfiguration, ChartType } from "chart.js";
import { useEffect, useRef } from "preact/hooks";
import { Chart } from "./chart_setup.ts";

export function ChartCanvas<T extends ChartType>(
  { config, label, box, onLeave }: {
    config: ChartConfiguration<T>;
    label: string;
    /** The pointer left the chart: Chart.js tells `onHover` only of moves inside it. */
    onLeave?: () => void;
    /** The box around the canvas: its class and data attributes (test ids, counts). */
    box: { class: string; [data: `data-${string}`]: string | number };
  },
) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<T> | null>(null);
  useEffect(() => {
    const c = new Chart(canvas.current!, config);
    chart.current = c;
    return () => {
      c.destroy();
      chart.current = null;
    };
  }, [config.type]);
  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.data = config.data;
    if (config.options) c.options = config.options;
    c.update();
  });
  return (
    <div {...box} class={`chart-box ${box.class}`} onMouseLeave={onLeave}>
      <canvas ref={canvas} role="img" aria-label={label}>{label}</canvas>
    </div>
  );
}
