// A line chart in plain SVG (no library to ship or keep patched): a few dozen points, redrawn every refresh.
const SVG = 'http://www.w3.org/2000/svg';

function svgElement(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/**
 * `points` are [timeMs, value] over `windowMs` ending now. The figure carries a text summary as its accessible
 * name, so the chart is never the only way to read the numbers.
 */
export function lineChart({ title, unit, points, windowMs, now = Date.now() }) {
  const width = 480;
  const height = 120;
  const pad = 28;
  const highest = Math.max(0, ...points.map(([, value]) => value));
  // The scale never shrinks below 1 unit, so a flat zero line is drawn at the bottom rather than across the middle.
  const max = Math.max(1, highest);
  // From the first sample (at most `windowMs` ago) to now, so a page open for minutes is not a sliver of an hour.
  const start = Math.max(now - windowMs, points[0]?.[0] ?? now);
  const span = Math.max(1, now - start);
  const x = (time) => pad + ((time - start) / span) * (width - pad - 4);
  const y = (value) => height - pad / 2 - (value / max) * (height - pad);
  const latest = points.at(-1)?.[1];
  const summary = `${title}: ${latest === undefined ? 'no samples yet' : `now ${latest.toFixed(1)} ${unit}`}, highest ${highest.toFixed(1)} ${unit} over the samples shown`;
  const svg = svgElement('svg', {
    class: 'chart',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': summary,
  });
  const titleElement = svgElement('title', {});
  titleElement.textContent = summary;
  svg.append(titleElement);
  svg.append(svgElement('line', { x1: pad, y1: height - pad / 2, x2: width, y2: height - pad / 2, stroke: '#888' }));
  const label = svgElement('text', { x: 2, y: 12, 'font-size': 11 });
  label.textContent = `${max.toFixed(0)} ${unit}`;
  svg.append(label);
  if (points.length > 1) {
    const line = points.map(([time, value]) => `${x(time).toFixed(1)},${y(value).toFixed(1)}`).join(' ');
    svg.append(svgElement('polyline', { points: line, fill: 'none', stroke: '#0050b3', 'stroke-width': 2 }));
  }
  const figure = document.createElement('figure');
  const caption = document.createElement('figcaption');
  caption.textContent = summary;
  figure.append(svg, caption);
  return figure;
}
