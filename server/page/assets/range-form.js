// The range picker: date and time inputs (UTC) turned into the bounds of GET /dashboard/range.

const DAY_MS = 86_400_000;

/** Fills the inputs with today, 00:00 UTC, to tomorrow, 00:00 UTC, a useful first range. */
export function presetToday(form) {
  const now = Date.now();
  form.elements['lower-date'].value = utcDate(now);
  form.elements['upper-date'].value = utcDate(now + DAY_MS);
  form.elements['lower-time'].value = '00:00';
  form.elements['upper-time'].value = '00:00';
}

/** The bounds as the API reads them, `YYYY-MM-DD` or `YYYY-MM-DD HH:MM[:SS]`. */
export function readBounds(form) {
  const bound = (name) => {
    const date = form.elements[`${name}-date`].value;
    const time = form.elements[`${name}-time`].value;
    return time === '' ? date : `${date} ${time}`;
  };
  return { lower: bound('lower'), upper: bound('upper') };
}

export function rangeUrl({ lower, upper }) {
  return `/dashboard/range/${encodeURIComponent(lower)}/${encodeURIComponent(upper)}`;
}

function utcDate(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}
