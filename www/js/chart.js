// The 24-hour activity chart: one pair of bars per hour (succeeded, failed) drawn as inline SVG
// from the Items of GET .../Activity, oldest hour first. Its text alternative is the totals (the
// SVG's title and desc); each hour's exact counts are in that hour's own title (a tooltip).

import { h, s } from './dom.js';

const WIDTH = 480;
const HEIGHT = 150;
const TOP = 10;
const BOTTOM = 20; // room for the hour labels
const LEFT = 28; // room for the scale
const BAR = 7;
let serial = 0;

const hourLabel = (hour) => String(hour).slice(11, 16);

export function activityChart(items, name) {
  const id = 'chart-' + (++serial);
  const plot = HEIGHT - TOP - BOTTOM;
  const slot = (WIDTH - LEFT) / Math.max(items.length, 1);
  const peak = Math.max(1, ...items.map((i) => Math.max(i.Succeeded, i.Failed)));
  const barHeight = (n) => (n / peak) * plot;
  const totals = items.reduce((t, i) => ({ ok: t.ok + i.Succeeded, failed: t.failed + i.Failed }), { ok: 0, failed: 0 });

  const svg = s('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`, class: 'chart-svg',
  },
  s('title', { id: id + '-title' }, name),
  s('desc', { id: id + '-desc' }, `${totals.ok} succeeded and ${totals.failed} failed attempts in the last 24 hours`),
  s('line', { x1: LEFT, y1: TOP + plot, x2: WIDTH, y2: TOP + plot, class: 'axis' }),
  s('text', { x: LEFT - 4, y: TOP + 8, class: 'scale', 'text-anchor': 'end' }, String(peak)),
  s('text', { x: LEFT - 4, y: TOP + plot, class: 'scale', 'text-anchor': 'end' }, '0'));

  items.forEach((item, i) => {
    const x = LEFT + i * slot + (slot - 2 * BAR - 1) / 2;
    const ok = barHeight(item.Succeeded);
    const failed = barHeight(item.Failed);
    svg.append(s('g', { class: 'hour' },
      s('title', null, `${item.Hour} UTC: ${item.Succeeded} succeeded, ${item.Failed} failed`),
      s('rect', { class: 'bar-ok', x, y: TOP + plot - ok, width: BAR, height: ok }),
      s('rect', { class: 'bar-failed', x: x + BAR + 1, y: TOP + plot - failed, width: BAR, height: failed })));
    if (i % 6 === 0) {
      svg.append(s('text', { x: LEFT + i * slot, y: HEIGHT - 4, class: 'scale' }, hourLabel(item.Hour)));
    }
  });

  const legend = h('p', { class: 'legend' },
    h('span', { class: 'key key-ok' }, `Succeeded: ${totals.ok}`),
    h('span', { class: 'key key-failed' }, `Failed: ${totals.failed}`));
  return [svg, legend];
}
