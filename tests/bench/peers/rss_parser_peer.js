// Peer for parse_bench: the npm package rss-parser (v3) on every file of a directory, and
// optionally every item matched against keyword rules with JS RegExp.
//
// Usage: NODE_PATH=CACHE/node_modules node rss_parser_peer.js DIR [RULES.json [MATCH_EVERY]]
// Prints one JSON line {"bytes": N, "items": N, "seconds": S, "files": N, "errors": N}, plus
// "match_seconds": S, "matches": N, "rules": N, "match_files": N, "match_bytes": N,
// "match_items": N when given rules. Every file is parsed; with MATCH_EVERY = K (default 1)
// only the items of every K-th file (in name order, the first included) are matched.
// Only parseString() is timed ("seconds"), and the matching apart from it ("match_seconds"),
// in CPU time (user + system, all of node's threads, so its garbage collector counts) as
// parse_bench measures newsmon: node start-up, module loading, file reading and compiling
// the rules are not.
// rss-parser takes a JS string (its parseURL decodes HTTP bodies as UTF-8 whatever the
// document says), so the files are decoded before timing starts: as the XML declaration's
// encoding says (windows-1251 for the Russian feeds, through TextDecoder), else as UTF-8.
//
// RULES.json is what parse_bench writes: {"rules": [{"name", "js": {"any", "none"}}]}, each
// regex a source for new RegExp(source, 'iu'). A rule fires on an item when "any" matches its
// title or its text and "none" (when not null) matches neither, as newsmon's rules do;
// "matches" counts the (item, rule) pairs that fire. The text is rss-parser's contentSnippet
// (the RSS description without tags, entities decoded); Atom entries have only `summary`,
// HTML, which rss-parser's own getSnippet turns into text here (timed as matching), so that
// rules see the text newsmon's do.
'use strict';

const fs = require('fs');
const path = require('path');
const Parser = require('rss-parser');
const {getSnippet} = require('rss-parser/lib/utils');

const WARM_UP_FILES = 50;

function decode(buffer) {
  const head = buffer.subarray(0, 200).toString('latin1');
  const declared = /<\?xml[^>]*encoding=["']([A-Za-z0-9_-]+)["']/.exec(head);
  const encoding = declared ? declared[1].toLowerCase() : 'utf-8';
  if (encoding === 'utf-8' || encoding === 'utf8') return buffer.toString('utf8');
  return new TextDecoder(encoding).decode(buffer);
}

function loadRules(file) {
  const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  return spec.rules.map((rule) => ({
    any: new RegExp(rule.js.any, 'iu'),
    none: rule.js.none ? new RegExp(rule.js.none, 'iu') : null,
  }));
}

// The (item, rule) pairs that fire among `items`.
function match(items, rules) {
  let count = 0;
  for (const item of items) {
    const texts = [];
    if (item.title) texts.push(item.title);
    if (item.contentSnippet) {
      texts.push(item.contentSnippet);
    } else if (item.summary) {
      texts.push(getSnippet(item.summary));
    }
    for (const rule of rules) {
      if (!texts.some((text) => rule.any.test(text))) continue;
      if (rule.none && texts.some((text) => rule.none.test(text))) continue;
      count += 1;
    }
  }
  return count;
}

async function main() {
  const dir = process.argv[2];
  const rules = process.argv[3] ? loadRules(process.argv[3]) : null;
  const matchEvery = process.argv[4] ? Number(process.argv[4]) : 1;
  const names = fs.readdirSync(dir).sort();
  const texts = names.map((name) => fs.readFileSync(path.join(dir, name)));
  const totalBytes = texts.reduce((sum, buffer) => sum + buffer.length, 0);
  const strings = texts.map(decode);

  const parser = new Parser();
  // Warm-up, untimed: the first files once, so V8 has compiled the hot paths as it would in
  // a long-running process.
  for (const text of strings.slice(0, WARM_UP_FILES)) {
    try {
      const feed = await parser.parseString(text);
      if (rules) match(feed.items, rules);
    } catch (e) {
      // counted in the timed pass
    }
  }
  let items = 0;
  let errors = 0;
  let microseconds = 0;
  let matchMicroseconds = 0;
  let matches = 0;
  let matchFiles = 0;
  let matchBytes = 0;
  let matchItems = 0;
  for (const [index, text] of strings.entries()) {
    const start = process.cpuUsage();
    let feed = null;
    try {
      feed = await parser.parseString(text);
      items += feed.items.length;
    } catch (e) {
      errors += 1;
    }
    const used = process.cpuUsage(start);
    microseconds += used.user + used.system;
    if (rules && feed && index % matchEvery === 0) {
      const matchStart = process.cpuUsage();
      matches += match(feed.items, rules);
      const matchUsed = process.cpuUsage(matchStart);
      matchMicroseconds += matchUsed.user + matchUsed.system;
      matchFiles += 1;
      matchBytes += texts[index].length;
      matchItems += feed.items.length;
    }
  }

  const report = {
    bytes: totalBytes,
    items: items,
    seconds: microseconds / 1e6,
    files: strings.length,
    errors: errors,
  };
  if (rules) {
    Object.assign(report, {
      match_seconds: matchMicroseconds / 1e6,
      matches: matches,
      rules: rules.length,
      match_files: matchFiles,
      match_bytes: matchBytes,
      match_items: matchItems,
    });
  }
  console.log(JSON.stringify(report));
}

main().catch((e) => {
  console.error(`rss_parser_peer: ${e.stack || e}`);
  process.exit(1);
});
