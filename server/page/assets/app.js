/* global document, EventSource, fetch */
// The dashboard page: all time, live from the server's event stream (GET /dashboard/live), or a
// time range from the JSON API (GET /dashboard/range/...), shown as a table and a bar chart.

import { barChart } from './chart.js';
import { presetToday, rangeUrl, readBounds } from './range-form.js';
import { letterTable } from './table.js';

const byId = (id) => document.getElementById(id);
const showTable = letterTable(byId('letters'));
const showChart = barChart(byId('chart'));
const form = byId('range-form');
const heading = byId('view-heading');
const updatedAt = byId('updated-at');
const rangeError = byId('range-error');
const liveStatus = byId('live-status');

/** The latest live update (26 aggregates), shown while the view is "live". */
let latest;
let viewingLive = true;

function show(aggregates) {
  showTable(aggregates);
  showChart(aggregates);
}

/** The status line is a polite live region: it changes only when the connection's state does. */
function setLiveStatus(text) {
  if (liveStatus.textContent !== text) liveStatus.textContent = text;
}

function showLive() {
  viewingLive = true;
  heading.textContent = 'All time, live';
  updatedAt.textContent = '';
  if (latest !== undefined) show(latest);
}

const stream = new EventSource('/dashboard/live');
stream.addEventListener('update', (event) => {
  latest = JSON.parse(event.data);
  setLiveStatus('Live: the numbers update as events arrive.');
  if (!viewingLive) return;
  show(latest);
  updatedAt.textContent = `Updated at ${new Date().toISOString().slice(11, 19)} UTC.`;
});
stream.addEventListener('unavailable', (event) => {
  setLiveStatus(`Live updates paused: ${JSON.parse(event.data).error}. Retrying…`);
});
stream.addEventListener('error', () => setLiveStatus('Connection to the server lost: reconnecting…'));

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const bounds = readBounds(form);
  rangeError.textContent = '';
  try {
    const response = await fetch(rangeUrl(bounds));
    const body = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
    if (!response.ok) {
      rangeError.textContent = body.error;
      return;
    }
    viewingLive = false;
    heading.textContent = `From ${bounds.lower} to ${bounds.upper} (UTC)`;
    updatedAt.textContent = `Not live: read at ${new Date().toISOString().slice(11, 19)} UTC. Show the range again to refresh it.`;
    show(body);
  } catch {
    rangeError.textContent = 'The server could not be reached: try again.';
  }
});
byId('show-live').addEventListener('click', showLive);

presetToday(form);
