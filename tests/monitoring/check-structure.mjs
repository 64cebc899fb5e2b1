// What a type cannot say about config/grafana/newsmon.json, checked after tsc:
//   - the template variables the panels need exist (datasource, source, rule), and every
//     $variable a query uses is one of them or a Grafana built-in;
//   - every panel has a unique id, sits inside the 24-column grid without overlapping
//     another, queries the ${datasource} Prometheus, and has at least one query with an
//     expression and a unique refId.
// Usage: node check-structure.mjs DASHBOARD.json   (exit 1 with one line per problem)
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const dashboard = JSON.parse(readFileSync(file, 'utf8'));
const problems = [];
const builtins = new Set(['__rate_interval', '__interval', '__range', '__range_s', '__interval_ms']);
const variables = new Map((dashboard.templating?.list ?? []).map((v) => [v.name, v]));

for (const [name, type] of [['datasource', 'datasource'], ['source', 'query'], ['rule', 'query']]) {
  const v = variables.get(name);
  if (!v) problems.push(`template variable "${name}" is missing`);
  else if (v.type !== type) problems.push(`template variable "${name}" is ${v.type}, not ${type}`);
}
if (variables.get('datasource')?.query !== 'prometheus') {
  problems.push('template variable "datasource" must list prometheus data sources');
}

const ids = new Set();
const cells = new Map();  // "x,y" -> panel title
for (const panel of dashboard.panels ?? []) {
  const title = panel.title ?? `(panel ${panel.id})`;
  if (ids.has(panel.id)) problems.push(`${title}: id ${panel.id} is used twice`);
  ids.add(panel.id);
  const { x, y, w, h } = panel.gridPos ?? {};
  if (![x, y, w, h].every(Number.isInteger) || x < 0 || y < 0 || w < 1 || h < 1 || x + w > 24) {
    problems.push(`${title}: gridPos ${JSON.stringify(panel.gridPos)} is outside the grid`);
  } else {
    const overlapped = new Set();
    for (let row = y; row < y + h; ++row) {
      for (let col = x; col < x + w; ++col) {
        const other = cells.get(`${col},${row}`);
        if (other && !overlapped.has(other)) {
          overlapped.add(other);
          problems.push(`${title}: overlaps "${other}" (first at x=${col} y=${row})`);
        }
        cells.set(`${col},${row}`, title);
      }
    }
  }
  if (panel.type === 'row') continue;
  if (panel.datasource?.uid !== '${datasource}' || panel.datasource?.type !== 'prometheus') {
    problems.push(`${title}: datasource must be {type: prometheus, uid: \${datasource}}`);
  }
  const targets = panel.targets ?? [];
  if (targets.length === 0) problems.push(`${title}: no queries`);
  const refIds = new Set();
  for (const t of targets) {
    if (refIds.has(t.refId)) problems.push(`${title}: refId ${t.refId} is used twice`);
    refIds.add(t.refId);
    if (typeof t.expr !== 'string' || t.expr.trim() === '') {
      problems.push(`${title}: query ${t.refId} has no expr`);
      continue;
    }
    for (const [, name] of t.expr.matchAll(/\$\{?(\w+)/g)) {
      if (!variables.has(name) && !builtins.has(name)) {
        problems.push(`${title}: query ${t.refId} uses unknown variable $${name}`);
      }
    }
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(`${file}: ${p}`);
  process.exit(1);
}
console.log(`${file}: ${ids.size} panels, structure OK`);
