/* global document */
// The bar chart of counts per letter: an enhancement of the table, drawn as SVG through the DOM (the
// page's CSP allows no inline markup or styles). Colours come from style.css.

import { formatCount } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const SLOT = 22; // horizontal room per letter
const LEFT = 48; // room for the scale's labels
const TOP = 10;
const PLOT_HEIGHT = 160;
const BOTTOM = 22; // room for the letters
const GRID = [0, 0.5, 1];

/** Returns a function that draws aggregates (the API's JSON objects) as bars in the svg element. */
export function barChart(svg) {
  const bars = new Map();
  const grid = GRID.map((fraction) => {
    const y = TOP + PLOT_HEIGHT * (1 - fraction);
    const line = element('line', { class: 'grid', x1: LEFT - 4, y1: y, y2: y });
    const label = element('text', { class: 'scale', x: LEFT - 8, y: y + 4 });
    svg.append(line, label);
    return { fraction, line, label };
  });
  return (aggregates) => {
    const width = LEFT + aggregates.length * SLOT;
    svg.setAttribute('viewBox', `0 0 ${width} ${TOP + PLOT_HEIGHT + BOTTOM}`);
    const max = Math.max(0, ...aggregates.map((aggregate) => aggregate.count));
    for (const { fraction, line, label } of grid) {
      line.setAttribute('x2', String(width));
      label.textContent = formatCount(Math.round(max * fraction));
    }
    aggregates.forEach((aggregate, i) => {
      if (!bars.has(aggregate.symbol)) bars.set(aggregate.symbol, addBar(svg, aggregate.symbol, i));
      const height = max === 0 ? 0 : (PLOT_HEIGHT * aggregate.count) / max;
      const bar = bars.get(aggregate.symbol);
      bar.rect.setAttribute('y', String(TOP + PLOT_HEIGHT - height));
      bar.rect.setAttribute('height', String(height));
      bar.title.textContent = `${aggregate.symbol}: ${formatCount(aggregate.count)}`;
    });
  };
}

function addBar(svg, letter, index) {
  const x = LEFT + index * SLOT;
  const rect = element('rect', { class: 'bar', x: x + 3, width: SLOT - 6, y: TOP + PLOT_HEIGHT, height: 0 });
  const title = element('title', {});
  rect.append(title);
  const label = element('text', { class: 'letter', x: x + SLOT / 2, y: TOP + PLOT_HEIGHT + 16 });
  label.textContent = letter;
  svg.append(rect, label);
  return { rect, title };
}

/** An SVG element with these attributes. */
export function element(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}
