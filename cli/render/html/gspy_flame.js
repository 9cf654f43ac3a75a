// gspy's glue around d3-flame-graph: reads the profile gspy embedded as JSON,
// builds the tree d3-flame-graph draws, and wires search, zoom reset, the
// icicle/flame toggle, the tooltip, the label-value colours and legend, and
// the differential colours. The drawing, zoom and search are the library's.
//
// Every string in the data comes from the profiled program: it is only ever
// put into the page as text (textContent, d3's .text() and .attr()), never
// as HTML.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('gspy-data').textContent);
  const S = data.strings;
  const count = data.depth.length;
  const total = data.value[0];
  const baseTotal = data.diff ? data.base[0] : 0;
  const byId = (id) => document.getElementById(id);
  const percent = (part, whole) => (whole > 0 ? (100 * part) / whole : 0);
  const fmt = (x) => x.toLocaleString('en-US');

  // Nodes arrive in depth-first pre-order with their depth: a node's parent
  // is the last node seen one level up. A tree is drawn with the widths of
  // one column: the profile's values, or in a diff either profile's (a frame
  // with no width in that column, nor its children, is not drawn; so a
  // frame only in the base is seen with the base's widths, as flamegraph.pl
  // --negate shows what went away).
  const group = new Int32Array(count);
  function buildTree(column) {
    const nodes = new Array(count);
    const lastAt = [0]; // the last node seen at each depth
    for (let i = 0; i < count; i++) {
      const depth = data.depth[i];
      lastAt[depth] = i;
      if (i > 0 && column[i] <= 0) continue;
      const node = { i: i, v: column[i] };
      nodes[i] = node;
      if (i === 0) continue;
      const p = lastAt[depth - 1];
      const parent = nodes[p];
      if (!parent) continue;
      (parent.c || (parent.c = [])).push(node);
      group[i] = p === 0 ? i : group[p];
    }
    return nodes;
  }
  const nodes = buildTree(data.value);
  // Which profile's widths are drawn; the labels' shares are of its total.
  let widthsFromBase = data.diff && data.widths === 'base';
  let shownTotal = widthsFromBase ? baseTotal : total;
  const nameOf = (i) => S[data.name[i]];

  // Label values: one hue each, spread by the golden angle, in the values'
  // order so a value keeps its colour from one profile of a service to the
  // next.
  const groupHue = new Map();
  if (data.groupBy) {
    const roots = (nodes[0].c || []).slice().sort((a, b) => (nameOf(a.i) < nameOf(b.i) ? -1 : 1));
    roots.forEach((n, k) => groupHue.set(n.i, (k * 137.508) % 360));
  }
  function hash(s) {
    let h = 2166136261;
    for (let k = 0; k < s.length; k++) {
      h ^= s.charCodeAt(k);
      h = Math.imul(h, 16777619);
    }
    return h >>> 0;
  }

  // Differential: Brendan Gregg's colours. The change of a frame is its
  // share of the new profile minus its share of the base (both normalised
  // by their totals); red grows, blue shrinks, the strongest change is the
  // most saturated, white is no change.
  let maxDelta = 0;
  const delta = (i) =>
    percent(data.value[i], total) - percent(data.base[i], baseTotal);
  if (data.diff) {
    for (let i = 1; i < count; i++) maxDelta = Math.max(maxDelta, Math.abs(delta(i)));
  }
  function diffColour(i) {
    const d = delta(i);
    const r = maxDelta > 0 ? Math.abs(d) / maxDelta : 0;
    const fade = Math.round(255 - 200 * r);
    return d > 0 ? `rgb(255,${fade},${fade})` : d < 0 ? `rgb(${fade},${fade},255)` : 'rgb(255,255,255)';
  }

  function colour(d, original) {
    if (d.highlight) return '#e600e6';
    const i = d.data.i;
    if (i === 0) return 'rgb(210,210,210)';
    if (data.diff) return diffColour(i);
    if (groupHue.has(group[i])) {
      const h = hash(nameOf(i));
      return `hsl(${groupHue.get(group[i])},${55 + (h % 21)}%,${55 + ((h >> 8) % 16)}%)`;
    }
    return original;
  }

  // The tooltip: d3-flame-graph calls it with the svg, then show/hide.
  const tipBox = byId('tooltip');
  function tip() {}
  tip.show = function (event, d) {
    const i = d.data.i;
    const lines = [nameOf(i)];
    const file = S[data.file[i]];
    if (file) lines.push(data.line[i] > 0 ? `${file}:${data.line[i]}` : file);
    lines.push(`${fmt(data.value[i])} ${data.unit} (${percent(data.value[i], total).toFixed(2)}%)`);
    if (data.diff) {
      lines.push(`base: ${fmt(data.base[i])} ${data.unit} (${percent(data.base[i], baseTotal).toFixed(2)}%)`);
      const d2 = delta(i);
      lines.push(`change: ${d2 >= 0 ? '+' : ''}${d2.toFixed(2)} points of share`);
    }
    tipBox.textContent = lines.join('\n');
    tipBox.style.display = 'block';
    tipBox.style.left = Math.min(event.pageX + 12, window.scrollX + window.innerWidth - tipBox.offsetWidth - 8) + 'px';
    tipBox.style.top = event.pageY + 14 + 'px';
  };
  tip.hide = function () {
    tipBox.style.display = 'none';
  };

  const chartBox = byId('chart');
  const chart = flamegraph
    .default()
    .width(Math.max(600, chartBox.clientWidth))
    .cellHeight(18)
    .transitionDuration(250)
    .minFrameSize(1)
    .sort(true)
    .title('')
    .getName((d) => nameOf(d.data.i))
    .setColorMapper(colour)
    .tooltip(tip)
    .setDetailsElement(byId('details'))
    .setLabelHandler(
      (d) => `${nameOf(d.data.i)} (${percent(d.data.v, shownTotal).toFixed(2)}%, ${fmt(d.data.v)} ${data.unit})`,
    )
    .setSearchHandler(function (results, sum, whole) {
      const out = byId('match');
      out.dataset.sum = sum;
      out.dataset.total = whole;
      out.dataset.percent = percent(sum, whole);
      out.textContent = results.length
        ? `matched: ${fmt(sum)} of ${fmt(whole)} ${data.unit} (${percent(sum, whole).toFixed(3)}%) in ${fmt(results.length)} frames`
        : 'no match';
    });

  d3.select(chartBox).datum((widthsFromBase ? buildTree(data.base) : nodes)[0]).call(chart);

  // The library's own match compiles the expression once per frame; with
  // 100k stacks (millions of frames) that took seconds. The same test, a
  // regular expression against the frame's name, is run here once per
  // distinct name instead.
  let nameMatches = new Uint8Array(S.length);
  chart.setSearchMatch((d) => nameMatches[data.name[d.data.i]] === 1);

  function search() {
    const term = byId('term').value;
    let re;
    try {
      re = new RegExp(term);
    } catch (e) {
      byId('match').textContent = 'not a regular expression: ' + e.message;
      return;
    }
    if (term === '') {
      chart.clear();
      byId('match').textContent = '';
      return;
    }
    nameMatches = new Uint8Array(S.length);
    for (let k = 0; k < S.length; k++) nameMatches[k] = S[k] !== '' && re.test(S[k]) ? 1 : 0;
    chart.search(term);
  }
  byId('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    search();
  });
  byId('clear').addEventListener('click', () => {
    byId('term').value = '';
    search();
  });
  byId('reset').addEventListener('click', () => chart.resetZoom());
  const toggle = byId('toggle');
  toggle.addEventListener('click', () => {
    chart.inverted(!chart.inverted());
    toggle.textContent = chart.inverted() ? 'Flame (root at bottom)' : 'Icicle (root at top)';
    chart.update();
  });

  // A diff's widths: the new profile's (what it spends now) or the base's
  // (where what shrank or went away used to be).
  const widths = byId('widths');
  const widthsLabel = () =>
    (widths.textContent = widthsFromBase ? 'Widths: base (show new)' : 'Widths: new (show base)');
  if (data.diff) {
    widthsLabel();
    widths.addEventListener('click', () => {
      widthsFromBase = !widthsFromBase;
      shownTotal = widthsFromBase ? baseTotal : total;
      chart.update(buildTree(widthsFromBase ? data.base : data.value)[0]);
      widthsLabel();
      legendText();
    });
  } else {
    widths.style.display = 'none';
  }

  // The legend: each label value's colour and share.
  const legend = byId('legend');
  if (data.groupBy) {
    const roots = (nodes[0].c || []).slice().sort((a, b) => b.v - a.v);
    for (const n of roots) {
      const item = document.createElement('span');
      item.className = 'legend-item';
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = `hsl(${groupHue.get(n.i)},65%,62%)`;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(`${nameOf(n.i)} (${percent(n.v, total).toFixed(1)}%)`));
      legend.appendChild(item);
    }
  }
  function legendText() {
    if (!data.diff) return;
    legend.textContent =
      'red: larger share in the new profile, blue: smaller; the deeper the colour, the larger the change. Widths: the ' +
      (widthsFromBase ? 'base profile (frames only in the new one are not drawn).' : 'new profile (frames only in the base are not drawn).');
  }
  legendText();
  byId('summary').textContent = data.summary;
  document.body.dataset.ready = 'true';
})();
