/* global fetch, URLSearchParams */
// The events-over-time chart above the table: GET /dashboard/series for the range shown (today in
// the zone shown while the page shows all time), in that zone, at an interval chosen to fit or the
// one the reader picks. Asked again on every live update while the range reaches the present, one
// request at a time.

import { seriesChart } from './series-chart.js';
import { apiBound, formatInstant } from './zone.js';

/** The intervals of the API, finest first, with their length (ms) and a name for the reader. */
export const INTERVALS = [
  { value: '1m', ms: 60_000, name: 'minute' },
  { value: '10m', ms: 600_000, name: '10 minutes' },
  { value: '1h', ms: 3_600_000, name: 'hour' },
  { value: '1d', ms: 86_400_000, name: 'day' },
];
/** "Auto" picks the finest interval that gives at most this many bars. */
const MAX_AUTO_BARS = 100;

/** The finest interval that shows [lower, upper) in at most MAX_AUTO_BARS bars (a day for longer ranges). */
export function fittingInterval(lower, upper) {
  const span = upper.getTime() - lower.getTime();
  return (INTERVALS.find((interval) => span / interval.ms <= MAX_AUTO_BARS) ?? INTERVALS.at(-1)).value;
}

/** The API's name of a zone shown: the browser's IANA name, or UTC. */
const zoneParam = (zone) => (zone.utc ? 'UTC' : zone.name);

/** The URL of the series: bounds with their offsets in the zone (`+` as %2B), the zone by name. */
export function seriesUrl(zone, { lower, upper }, interval) {
  const query = new URLSearchParams({ interval, tz: zoneParam(zone) });
  return `/dashboard/series/${encodeURIComponent(apiBound(zone, lower))}/${encodeURIComponent(apiBound(zone, upper))}?${query}`;
}

/**
 * The chart and its parts: `svg` to draw in, `select` (auto or an interval), `note` (what is shown,
 * or why not). show() draws a range in a zone; refresh() asks the same again.
 */
export function seriesView({ svg, select, note }) {
  const draw = seriesChart(svg);
  let shown;
  let asking = false;
  let askAgain = false;

  async function ask() {
    if (shown === undefined) return;
    if (asking) {
      askAgain = true;
      return;
    }
    asking = true;
    const { zone, range } = shown;
    const interval = select.value === 'auto' ? fittingInterval(range.lower, range.upper) : select.value;
    try {
      const response = await fetch(seriesUrl(zone, range, interval));
      const body = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
      // The reader may have chosen another range or zone meanwhile: that answer is on its way.
      if (shown?.range !== range || shown.zone !== zone) return;
      if (!response.ok) {
        note.textContent = `The chart cannot be shown: ${body.error}`;
        draw({ interval, points: [] });
        return;
      }
      const name = INTERVALS.find((each) => each.value === interval).name;
      note.textContent = `Initial events per ${name}, from ${formatInstant(zone, range.lower)} to ${formatInstant(zone, range.upper)} (${zone.name}).`;
      draw(body);
    } catch {
      note.textContent = 'The chart could not be read from the server: it is asked again at the next update.';
    } finally {
      asking = false;
      if (askAgain) {
        askAgain = false;
        void ask();
      }
    }
  }

  select.addEventListener('change', () => void ask());
  return {
    /** Draws [lower, upper) in the zone. */
    show(zone, range) {
      shown = { zone, range };
      const auto = select.options[0];
      auto.textContent = `Auto (per ${INTERVALS.find((each) => each.value === fittingInterval(range.lower, range.upper)).name})`;
      void ask();
    },
    /** Asks again, if what is shown reaches the present (only then can it change). */
    refresh() {
      if (shown !== undefined && shown.range.upper.getTime() > Date.now()) void ask();
    },
  };
}
