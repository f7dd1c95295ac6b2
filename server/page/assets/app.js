/* global document, EventSource, fetch, localStorage, setTimeout */
// The dashboard page: all time, live from the server's event stream (GET /dashboard/live), or a
// time range from the JSON API (GET /dashboard/range/...), shown as a table and a bar chart, with
// times in the browser's zone or in UTC, as the reader chooses; above them, the events over time
// (GET /dashboard/series/...) of the range shown, or of today while all time is shown.

import { barChart } from './chart.js';
import { changeZone, presetToday, rangeUrl, readRange } from './range-form.js';
import { seriesView } from './series-view.js';
import { letterTable } from './table.js';
import { dayAround, formatInstant, LOCAL_ZONE_NAME, timeZone, wallTimeInputs } from './zone.js';

const byId = (id) => document.getElementById(id);
const showTable = letterTable(byId('letters'));
const showChart = barChart(byId('chart'));
const series = seriesView({ svg: byId('series-chart'), select: byId('series-interval'), note: byId('series-note') });
const form = byId('range-form');
const heading = byId('view-heading');
const updatedAt = byId('updated-at');
const rangeError = byId('range-error');
const liveStatus = byId('live-status');
const zoneChoices = document.querySelectorAll('input[name=zone]');

/** Where the reader's choice of zone is kept for the next visit. */
const ZONE_KEY = 'dashboard.time-zone';
/** How long a refused page waits when the server does not say (seconds). */
const DEFAULT_RETRY_SECONDS = 5;

let zone = timeZone(storedZone() === 'utc');
/** The latest live update (26 aggregates) and when it came: shown while there is no range. */
let latest;
let latestAt;
/** The range shown instead, if any: its bounds (instants), its aggregates and when they were read. */
let range;
/** What the events-over-time chart shows: a range, in a zone. */
let charted;

/** The heading, the note under it, the table and the chart, for what is shown, in the zone shown. */
function showView() {
  if (range === undefined) {
    heading.textContent = 'All time, live';
    updatedAt.textContent = latestAt === undefined ? '' : `Updated at ${timeOfDay(latestAt)}.`;
    if (latest !== undefined) show(latest);
  } else {
    heading.textContent = `From ${formatInstant(zone, range.lower)} to ${formatInstant(zone, range.upper)} (${zone.name})`;
    updatedAt.textContent = `Not live: read at ${timeOfDay(range.readAt)}. Show the range again to refresh it.`;
    show(range.aggregates);
  }
  showSeries();
}

/** The chart over the range shown, or today in the zone shown; asked again if that is what it shows. */
function showSeries() {
  const today = range === undefined ? dayAround(zone, new Date()) : undefined;
  const wanted = today ? { lower: today.start, upper: today.end } : { lower: range.lower, upper: range.upper };
  const same = charted?.zone === zone && charted.range.lower.getTime() === wanted.lower.getTime() && charted.range.upper.getTime() === wanted.upper.getTime();
  if (same) {
    series.refresh();
    return;
  }
  charted = { zone, range: wanted };
  series.show(zone, wanted);
}

function show(aggregates) {
  showTable(aggregates, zone);
  showChart(aggregates);
}

const timeOfDay = (date) => `${wallTimeInputs(zone, date).time} (${zone.name})`;

/** Every label that names the zone shown: the range picker's legends, the columns, the notes. */
function showZoneNames() {
  for (const name of document.querySelectorAll('.zone-name')) name.textContent = zone.name;
}

function storedZone() {
  try {
    return localStorage.getItem(ZONE_KEY);
  } catch {
    return null; // storage refused (privacy settings): the page starts in local time
  }
}

function storeZone(value) {
  try {
    localStorage.setItem(ZONE_KEY, value);
  } catch {
    // not kept for the next visit; this one goes on
  }
}

/** The status line is a polite live region: it changes only when the connection's state does. */
function setLiveStatus(text) {
  if (liveStatus.textContent !== text) liveStatus.textContent = text;
}

function connectLive() {
  const stream = new EventSource('/dashboard/live');
  stream.addEventListener('update', (event) => {
    latest = JSON.parse(event.data);
    latestAt = new Date();
    setLiveStatus('Live: the numbers update as events arrive.');
    if (range === undefined) showView();
    else series.refresh();
  });
  stream.addEventListener('unavailable', (event) => {
    setLiveStatus(`Live updates paused: ${JSON.parse(event.data).error}. Retrying…`);
  });
  stream.addEventListener('error', () => {
    // A dropped connection: the browser reconnects by itself.
    if (stream.readyState === EventSource.CONNECTING) setLiveStatus('Connection to the server lost: reconnecting…');
    // A refusal (a 503 when the server has all the live viewers it takes, or is shutting down):
    // the browser gives up on this stream, so the page opens another one later.
    else void reconnectLater();
  });
}

async function reconnectLater() {
  // Up to half as long again at random: pages refused together do not all come back together.
  const delayMs = (await retryAfterSeconds()) * 1000 * (1 + Math.random() / 2);
  setLiveStatus(`Live updates refused: the server is busy (too many live viewers) or restarting. Retrying in ${Math.round(delayMs / 1000)} s…`);
  setTimeout(connectLive, delayMs);
}

/**
 * When the server takes a stream again. EventSource hides a refusal's Retry-After, so the page asks
 * a HEAD of the stream, which answers as a GET would without opening one: a free slot now is 1 s.
 */
async function retryAfterSeconds() {
  try {
    const response = await fetch('/dashboard/live', { method: 'HEAD' });
    if (response.ok) return 1;
    const seconds = Number(response.headers.get('Retry-After'));
    // Retry-After may also be an HTTP date, which this server never sends.
    return Number.isFinite(seconds) && seconds >= 1 ? seconds : DEFAULT_RETRY_SECONDS;
  } catch {
    return DEFAULT_RETRY_SECONDS;
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const bounds = readRange(form, zone);
  rangeError.textContent = '';
  try {
    const response = await fetch(rangeUrl(zone, bounds));
    const body = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
    if (!response.ok) {
      rangeError.textContent = body.error;
      return;
    }
    range = { ...bounds, aggregates: body, readAt: new Date() };
    showView();
  } catch {
    rangeError.textContent = 'The server could not be reached: try again.';
  }
});
byId('show-live').addEventListener('click', () => {
  range = undefined;
  showView();
});

for (const choice of zoneChoices) {
  choice.checked = (choice.value === 'utc') === zone.utc;
  choice.addEventListener('change', () => {
    const shown = timeZone(choice.value === 'utc');
    changeZone(form, zone, shown);
    zone = shown;
    storeZone(choice.value);
    showZoneNames();
    showView();
  });
}
byId('local-zone-label').textContent = `Local time (${LOCAL_ZONE_NAME})`;
showZoneNames();
presetToday(form, zone);
connectLive();
