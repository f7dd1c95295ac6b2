// The chart of initial events over time: one bar per point of GET /dashboard/series, drawn as SVG
// through the DOM (the page's CSP allows no inline markup or styles). Each bar carries its start (in
// the zone asked, with its offset: the repeated hour of a 25-hour day shows twice, told apart) and
// its numbers, in its title and its data attributes. Colours come from style.css.

import { element } from './chart.js';
import { formatCount } from './format.js';

const LEFT = 48; // room for the scale's labels
const PLOT_WIDTH = 900;
const TOP = 10;
const PLOT_HEIGHT = 140;
const BOTTOM = 22; // room for the times
const GRID = [0, 0.5, 1];
/** At most this many time labels under the bars. */
const LABELS = 8;

/** Returns a function that draws a series (the API's JSON answer) in the svg element. */
export function seriesChart(svg) {
  svg.setAttribute('viewBox', `0 0 ${LEFT + PLOT_WIDTH} ${TOP + PLOT_HEIGHT + BOTTOM}`);
  return (series) => {
    svg.replaceChildren();
    const { points } = series;
    const max = Math.max(0, ...points.map((point) => point.count));
    for (const fraction of GRID) {
      const y = TOP + PLOT_HEIGHT * (1 - fraction);
      const label = element('text', { class: 'scale', x: LEFT - 8, y: y + 4 });
      label.textContent = formatCount(Math.round(max * fraction));
      svg.append(element('line', { class: 'grid', x1: LEFT - 4, y1: y, x2: LEFT + PLOT_WIDTH, y2: y }), label);
    }
    const slot = PLOT_WIDTH / points.length;
    const every = Math.ceil(points.length / LABELS);
    points.forEach((point, i) => {
      const x = LEFT + i * slot;
      const height = max === 0 ? 0 : (PLOT_HEIGHT * point.count) / max;
      const bar = element('rect', {
        class: 'bar', x: x + slot * 0.1, width: slot * 0.8, y: TOP + PLOT_HEIGHT - height, height,
        'data-start': point.start, 'data-count': point.count, 'data-followups': point.followups,
      });
      const title = element('title', {});
      title.textContent = `${readableStart(point.start)}: ${formatCount(point.count)} initial events, ${formatCount(point.followups)} followups`;
      bar.append(title);
      svg.append(bar);
      if (i % every !== 0) return;
      const label = element('text', { class: 'time', x: x + slot / 2, y: TOP + PLOT_HEIGHT + 16 });
      label.textContent = series.interval === '1d' ? point.start.slice(5, 10) : point.start.slice(11, 16);
      svg.append(label);
    });
  };
}

/** `2026-10-25T02:00:00.000000+01:00` as `2026-10-25 02:00:00 +01:00` (the fraction when not zero). */
function readableStart(start) {
  const fraction = start.slice(20, 26);
  const time = start.slice(11, 19) + (fraction === '000000' ? '' : `.${fraction}`);
  return `${start.slice(0, 10)} ${time} ${start.slice(26)}`;
}
