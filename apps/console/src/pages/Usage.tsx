import { useQuery } from '@tanstack/react-query';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartDataset,
  Legend,
  LinearScale,
  Tooltip,
} from 'chart.js';
import { useEffect, useRef } from 'react';
import { formatBytes } from '../api';
import { describeError, owner } from '../session';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

interface UsageRow {
  day: string;
  apiKeyId: string;
  operations: number;
  computeMs: number;
  inputBytes: number;
}

type Metric = 'operations' | 'computeMs' | 'inputBytes';
const PALETTE = ['#1f5fa8', '#b3541e', '#2f7d32', '#7b3fa0', '#8a6d00', '#a0304b'];

function BarChart({
  rows,
  metric,
  title,
}: {
  rows: UsageRow[];
  metric: Metric;
  title: string;
}): React.JSX.Element {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const days = [...new Set(rows.map((r) => r.day))].sort();
    const keys = [...new Set(rows.map((r) => r.apiKeyId))].sort();
    const datasets: ChartDataset<'bar'>[] = keys.map((key, i) => ({
      label: key,
      backgroundColor: PALETTE[i % PALETTE.length],
      data: days.map((d) =>
        rows.filter((r) => r.day === d && r.apiKeyId === key).reduce((n, r) => n + r[metric], 0),
      ),
    }));
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: { labels: days, datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
      },
    });
    return () => chart.destroy();
  }, [rows, metric]);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="chart-box">
        <canvas
          ref={canvas}
          role="img"
          aria-label={`${title}, per day and per API key (the table below has the figures)`}
        />
      </div>
    </figure>
  );
}

export default function UsagePage({ serverId }: { serverId: string }): React.JSX.Element {
  const usage = useQuery({
    queryKey: ['usage', serverId],
    queryFn: async () => (await owner().usage(serverId)) as unknown as UsageRow[],
  });
  const rows = usage.data ?? [];
  return (
    <>
      <h1>Usage</h1>
      <p>Operations, compute time and input bytes per day (UTC) and per API key, over the last 30 days.</p>
      {usage.error && (
        <p className="error" role="alert">
          {describeError(usage.error)}
        </p>
      )}
      {usage.isPending && <p role="status">Loading…</p>}
      {usage.data && rows.length === 0 && <p>No operations in this period.</p>}
      {rows.length > 0 && (
        <>
          <div className="charts">
            <BarChart rows={rows} metric="operations" title="Operations" />
            <BarChart rows={rows} metric="computeMs" title="Compute time (ms)" />
            <BarChart rows={rows} metric="inputBytes" title="Input bytes" />
          </div>
          <div className="table-wrap">
            <table>
              <caption>Usage per day and key</caption>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">API key</th>
                  <th scope="col">Operations</th>
                  <th scope="col">Compute</th>
                  <th scope="col">Input</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={`${r.day}-${r.apiKeyId}`}>
                    <td>{r.day}</td>
                    <td>
                      <code>{r.apiKeyId}</code>
                    </td>
                    <td>{r.operations}</td>
                    <td>{r.computeMs} ms</td>
                    <td>{formatBytes(r.inputBytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
