// The range picker: date and time inputs, read in the zone the page shows, turned into the bounds of
// GET /dashboard/range.

import { apiBound, dayAround, readWallTime, wallTimeInputs } from './zone.js';

/** Fills the inputs with today, 00:00, to tomorrow, 00:00, in the zone: a useful first range. */
export function presetToday(form, zone) {
  const { start, end } = dayAround(zone, new Date());
  writeBound(form, zone, 'lower', start);
  writeBound(form, zone, 'upper', end);
}

/** The instants the inputs show in the zone. */
export function readRange(form, zone) {
  return { lower: readBound(form, zone, 'lower'), upper: readBound(form, zone, 'upper') };
}

/** Shows the same instants in another zone, so that the inputs keep their meaning when the zone shown changes. */
export function changeZone(form, from, to) {
  for (const name of ['lower', 'upper']) {
    // An empty date is no instant yet: the form's validation asks for it.
    if (form.elements[`${name}-date`].value === '') continue;
    writeBound(form, to, name, readBound(form, from, name));
  }
}

/** The API's URL of the range: each bound with its offset from UTC in the zone, URL-encoded (`+` as %2B). */
export function rangeUrl(zone, { lower, upper }) {
  return `/dashboard/range/${encodeURIComponent(apiBound(zone, lower))}/${encodeURIComponent(apiBound(zone, upper))}`;
}

function readBound(form, zone, name) {
  return readWallTime(zone, form.elements[`${name}-date`].value, form.elements[`${name}-time`].value);
}

function writeBound(form, zone, name, date) {
  const values = wallTimeInputs(zone, date);
  form.elements[`${name}-date`].value = values.date;
  form.elements[`${name}-time`].value = values.time;
}
