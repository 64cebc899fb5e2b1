// Peer for parse_bench: the npm package rss-parser (v3) on every file of a directory.
//
// Usage: NODE_PATH=CACHE/node_modules node rss_parser_peer.js DIR
// Prints one JSON line {"bytes": N, "items": N, "seconds": S, "files": N, "errors": N}.
// Only parseString() is timed, in CPU time (user + system, all of node's threads, so its
// garbage collector counts) as parse_bench measures newsmon: node start-up, module loading
// and file reading are not.
// rss-parser takes a JS string (its parseURL decodes HTTP bodies as UTF-8), so the files
// are decoded as UTF-8 before timing starts, windows-1251 ones included.
'use strict';

const fs = require('fs');
const path = require('path');
const Parser = require('rss-parser');

const WARM_UP_FILES = 50;

async function main() {
  const dir = process.argv[2];
  const names = fs.readdirSync(dir).sort();
  const texts = names.map((name) => fs.readFileSync(path.join(dir, name)));
  const totalBytes = texts.reduce((sum, buffer) => sum + buffer.length, 0);
  const strings = texts.map((buffer) => buffer.toString('utf8'));

  const parser = new Parser();
  // Warm-up, untimed: the first files once, so V8 has compiled the hot paths as it would in
  // a long-running process.
  for (const text of strings.slice(0, WARM_UP_FILES)) {
    try {
      await parser.parseString(text);
    } catch (e) {
      // counted in the timed pass
    }
  }
  let items = 0;
  let errors = 0;
  let microseconds = 0;
  for (const text of strings) {
    const start = process.cpuUsage();
    try {
      const feed = await parser.parseString(text);
      items += feed.items.length;
    } catch (e) {
      errors += 1;
    }
    const used = process.cpuUsage(start);
    microseconds += used.user + used.system;
  }

  console.log(JSON.stringify({
    bytes: totalBytes,
    items: items,
    seconds: microseconds / 1e6,
    files: strings.length,
    errors: errors,
  }));
}

main().catch((e) => {
  console.error(`rss_parser_peer: ${e.stack || e}`);
  process.exit(1);
});
