// The result charts as plain SVG (no chart library): ingest requests per second per interface, and
// dashboard p99 latency against stored events on log-log axes, a panel per scenario.

import type { Row } from './rows.ts';
import { DASHBOARD_SCENARIOS, INGEST_SCENARIOS } from './scenarios.ts';

const COLORS: Record<string, string> = { 'bare node-http': '#d0d0d0', 'bare express': '#bdbdbd', null: '#9e9e9e', sqlite: '#e07b39', 'mariadb-redis': '#2f6db3', elasticsearch: '#3a9a5b', ingest: '#2f6db3', mix: '#7fb0e0' };
const FONT = 'font-family="sans-serif" font-size="12"';

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const text = (x: number, y: number, body: string, extra = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${extra}>${esc(body)}</text>`;
const line = (x1: number, y1: number, x2: number, y2: number, stroke: string) =>
  `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${stroke}"/>`;
const svg = (width: number, height: number, body: string[]) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>\n` +
  `<rect width="${width}" height="${height}" fill="white"/>\n${body.join('\n')}\n</svg>\n`;

function legend(x: number, y: number, names: readonly string[]): string[] {
  return names.flatMap((name, i) => [
    `<rect x="${x + i * 130}" y="${y - 10}" width="12" height="12" fill="${COLORS[name] ?? 'black'}"/>`,
    text(x + i * 130 + 18, y, name),
  ]);
}

/** Grouped bars: requests per second of each ingest scenario, per interface, with the ratio to null. */
export function ingestChart(rows: readonly Row[]): string {
  // At the first connection count, the one both scenarios ran at.
  const mixed = rows.find((row) => row.scenario === 'mix')?.connections;
  const ingest = rows.filter((row) => (INGEST_SCENARIOS as readonly string[]).includes(row.scenario) && row.rps !== null && row.connections === mixed);
  const interfaces = [...new Set(ingest.map((row) => row.interface))];
  const width = 140 + interfaces.length * 180;
  const height = 360;
  const plot = { left: 70, top: 50, bottom: height - 60 };
  const max = niceCeiling(Math.max(1, ...ingest.map((row) => row.rps ?? 0)));
  const y = (value: number) => plot.bottom - (value / max) * (plot.bottom - plot.top);
  const body = [text(width / 2, 24, 'Ingest: requests per second (higher is better)', 'text-anchor="middle" font-size="15"')];
  for (let i = 0; i <= 4; i++) {
    const value = (max * i) / 4;
    body.push(line(plot.left, y(value), width - 20, y(value), '#e5e5e5'), text(plot.left - 6, y(value) + 4, Math.round(value).toLocaleString('en-US'), 'text-anchor="end"'));
  }
  interfaces.forEach((name, g) => {
    const groupX = plot.left + 30 + g * 180;
    INGEST_SCENARIOS.forEach((scenario, b) => {
      const row = ingest.find((r) => r.interface === name && r.scenario === scenario);
      if (!row?.rps) return;
      const x = groupX + b * 62;
      const label = row.ratio_to_null === undefined || name === 'null' ? `${Math.round(row.rps)}` : `${Math.round(row.rps)} (${row.ratio_to_null.toFixed(2)}×)`;
      body.push(
        `<rect x="${x}" y="${y(row.rps).toFixed(1)}" width="56" height="${(plot.bottom - y(row.rps)).toFixed(1)}" fill="${COLORS[scenario]}"/>`,
        text(x + 28, y(row.rps) - 5, label, 'text-anchor="middle" font-size="10"'),
      );
    });
    body.push(text(groupX + 59, plot.bottom + 18, name, 'text-anchor="middle"'));
  });
  body.push(line(plot.left, plot.bottom, width - 20, plot.bottom, 'black'), ...legend(plot.left, height - 16, INGEST_SCENARIOS));
  return svg(width, height, body);
}

/** A panel per dashboard scenario: p99 (ms) against stored events, both on log scales, a line per interface. */
export function dashboardChart(rows: readonly Row[]): string {
  const points = rows.filter((row) => (DASHBOARD_SCENARIOS as readonly string[]).includes(row.scenario) && row.p99_ms !== null && row.events > 0);
  const interfaces = [...new Set(points.map((row) => row.interface))];
  const panel = { width: 380, height: 280 };
  const width = panel.width * 2 + 20;
  const height = panel.height * Math.ceil(DASHBOARD_SCENARIOS.length / 2) + 90;
  const xs = logBounds(points.map((row) => row.events));
  const ys = logBounds(points.map((row) => row.p99_ms!));
  const body = [text(width / 2, 24, 'Dashboards: p99 latency (ms) against stored events, log-log (lower is better)', 'text-anchor="middle" font-size="15"')];
  DASHBOARD_SCENARIOS.forEach((scenario, i) => {
    const left = 10 + (i % 2) * panel.width + 60;
    const top = 50 + Math.floor(i / 2) * panel.height;
    const right = left + panel.width - 90;
    const bottom = top + panel.height - 60;
    const x = (value: number) => left + ((Math.log10(value) - xs.lo) / (xs.hi - xs.lo)) * (right - left);
    const y = (value: number) => bottom - ((Math.log10(value) - ys.lo) / (ys.hi - ys.lo)) * (bottom - top);
    body.push(text((left + right) / 2, top - 6, scenario, 'text-anchor="middle" font-weight="bold"'));
    for (let e = Math.ceil(xs.lo); e <= xs.hi; e++) body.push(line(x(10 ** e), top, x(10 ** e), bottom, '#e5e5e5'), text(x(10 ** e), bottom + 16, formatCount(10 ** e), 'text-anchor="middle"'));
    for (let e = Math.ceil(ys.lo); e <= ys.hi; e++) body.push(line(left, y(10 ** e), right, y(10 ** e), '#e5e5e5'), text(left - 6, y(10 ** e) + 4, `${10 ** e}`, 'text-anchor="end"'));
    body.push(line(left, bottom, right, bottom, 'black'), line(left, top, left, bottom, 'black'), text((left + right) / 2, bottom + 34, 'stored events', 'text-anchor="middle"'));
    for (const name of interfaces) {
      const series = points.filter((row) => row.interface === name && row.scenario === scenario).sort((a, b) => a.events - b.events);
      if (series.length === 0) continue;
      const color = COLORS[name] ?? 'black';
      body.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${series.map((row) => `${x(row.events).toFixed(1)},${y(row.p99_ms!).toFixed(1)}`).join(' ')}"/>`);
      for (const row of series) body.push(`<circle cx="${x(row.events).toFixed(1)}" cy="${y(row.p99_ms!).toFixed(1)}" r="3" fill="${color}"/>`);
    }
  });
  body.push(...legend(70, height - 16, interfaces));
  return svg(width, height, body);
}

/** Whole decades around the values, on a log10 scale. */
function logBounds(values: number[]): { lo: number; hi: number } {
  const logs = values.filter((v) => v > 0).map(Math.log10);
  if (logs.length === 0) return { lo: 0, hi: 1 };
  const lo = Math.floor(Math.min(...logs));
  const hi = Math.ceil(Math.max(...logs));
  return { lo, hi: hi > lo ? hi : lo + 1 };
}

function niceCeiling(value: number): number {
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / step) * step;
}

export function formatCount(n: number): string {
  if (n >= 1e6) return `${n / 1e6}M`;
  if (n >= 1e3) return `${n / 1e3}k`;
  return `${n}`;
}
