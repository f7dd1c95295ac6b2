/* global document */
// The table, the page's primary view: a row per letter (count, followups, followup rate, earliest,
// latest) and a total row. Rows are made once and then updated in place, so live updates neither
// flicker nor move the reader's focus or scroll position.

import { followupRate, formatCount, formatRate } from './format.js';
import { formatTimestamp } from './zone.js';

/** Returns a function that shows aggregates (the API's JSON objects) in the table, times in a zone. */
export function letterTable(table) {
  const rows = new Map();
  const body = table.tBodies[0];
  const total = addRow(table.tFoot, 'All letters');
  return (aggregates, zone) => {
    for (const aggregate of aggregates) {
      if (!rows.has(aggregate.symbol)) rows.set(aggregate.symbol, addRow(body, aggregate.symbol));
      fillRow(rows.get(aggregate.symbol), aggregate, zone);
    }
    fillRow(total, totalOf(aggregates), zone);
    table.removeAttribute('aria-busy');
  };
}

function addRow(section, label) {
  const row = section.insertRow();
  const header = document.createElement('th');
  header.scope = 'row';
  header.textContent = label;
  row.append(header);
  const cell = (className) => {
    const td = row.insertCell();
    td.className = className;
    return td;
  };
  return { count: cell('number'), followups: cell('number'), rate: cell('number'), earliest: cell('time'), latest: cell('time') };
}

function fillRow(cells, aggregate, zone) {
  showNumber(cells.count, aggregate.count, formatCount(aggregate.count));
  showNumber(cells.followups, aggregate.followups, formatCount(aggregate.followups));
  const rate = followupRate(aggregate);
  showNumber(cells.rate, rate ?? '', formatRate(rate));
  showTime(cells.earliest, aggregate.earliest === null ? '—' : formatTimestamp(zone, aggregate.earliest));
  showTime(cells.latest, aggregate.latest === null ? '—' : formatTimestamp(zone, aggregate.latest));
}

/** Date and time of day, each kept whole: a narrow table breaks the line between them only. */
function showTime(cell, text) {
  const space = text.indexOf(' ');
  const parts = space < 0 ? [text] : [text.slice(0, space), ' ', text.slice(space + 1)];
  cell.replaceChildren(
    ...parts.map((part) => {
      if (part === ' ') return part;
      const span = document.createElement('span');
      span.textContent = part;
      return span;
    }),
  );
}

/** A <data> element: the formatted number for the reader, the exact value in its `value`. */
function showNumber(cell, value, text) {
  let data = cell.firstElementChild;
  if (data === null) {
    data = document.createElement('data');
    cell.append(data);
  }
  data.value = String(value);
  data.textContent = text;
}

function totalOf(aggregates) {
  const total = { count: 0, followups: 0, earliest: null, latest: null };
  for (const { count, followups, earliest, latest } of aggregates) {
    total.count += count;
    total.followups += followups;
    // The API's fixed-width UTC format sorts as text.
    if (earliest !== null && (total.earliest === null || earliest < total.earliest)) total.earliest = earliest;
    if (latest !== null && (total.latest === null || latest > total.latest)) total.latest = latest;
  }
  return total;
}
