// A small time-series chart as inline SVG: a line with a soft area under it, gaps where there is no value,
// scaled to the window [from, to] and to the series' own maximum. Colours come from the stylesheet.
import { s } from './dom.js';

const W = 300;
const H = 60;
const PAD = 3;

/** points: [{ at: ms, value: number | null }] */
export function sparkline(points, { from, to, label, className = '' }) {
  const values = points.map((p) => p.value).filter((v) => v != null);
  const max = Math.max(...values, 0) || 1;
  const x = (at) => ((at - from) / (to - from)) * W;
  const y = (v) => H - PAD - (v / max) * (H - 2 * PAD);

  const runs = [];
  let run = [];
  for (const p of points) {
    if (p.value == null || p.at < from) {
      if (run.length) runs.push(run);
      run = [];
    } else {
      run.push([x(p.at), y(p.value)]);
    }
  }
  if (run.length) runs.push(run);

  const line = runs.map((r) => `M${r.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join('L')}`).join('');
  const area = runs.filter((r) => r.length > 1)
    .map((r) => `M${r[0][0].toFixed(1)},${H}L${r.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join('L')}L${r.at(-1)[0].toFixed(1)},${H}Z`).join('');

  return s('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', class: `spark ${className}`, role: 'img', 'aria-label': label },
    s('title', {}, label),
    s('line', { x1: 0, x2: W, y1: H - 0.5, y2: H - 0.5, class: 'axis' }),
    area ? s('path', { d: area, class: 'area' }) : null,
    line ? s('path', { d: line, class: 'line', 'vector-effect': 'non-scaling-stroke' }) : null);
}
