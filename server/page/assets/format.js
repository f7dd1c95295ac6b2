// Number formats of the page, in the reader's locale.

const counts = new Intl.NumberFormat();
const rates = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });

export const formatCount = (n) => counts.format(n);

/** Followups per initial event; every followup counts, so it may exceed 100 %. */
export const followupRate = (aggregate) => (aggregate.count === 0 ? undefined : aggregate.followups / aggregate.count);

export const formatRate = (rate) => (rate === undefined ? '—' : rates.format(rate));
