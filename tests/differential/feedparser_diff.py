#!/usr/bin/env python3
"""Differential test: newsmon's feed parser against Python's feedparser.

For every RSS, Atom and RDF fixture under tests/fixtures/parse/ that feedparser reads as
well-formed (bozo == 0) and that needs no source options (a URL or a Content-Type), compare
the item count, titles, links and dates of `newsmon fetch FILE --json` with those of
feedparser.parse() on the same bytes.

Where the two differ because feedparser is wrong (or because newsmon deliberately does
more), the difference is listed in KNOWN with the reason. An unexplained difference fails
the test, and so does a KNOWN entry that no longer differs (so the list stays true).

Usage: feedparser_diff.py NEWSMON_BINARY FIXTURE_DIR
"""
import calendar
import json
import pathlib
import re
import subprocess
import sys
import time

import feedparser

# (fixture name, field) -> why the two parsers disagree there. field is "count", "title",
# "link" or "published".
KNOWN = {
}

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
MIN_COMPARED = 25


def normalise(text):
    """Whitespace as both parsers should show it: runs collapsed, ends trimmed."""
    if text is None:
        return None
    return re.sub(r"\s+", " ", text).strip()


def ours(binary, path):
    run = subprocess.run([binary, "fetch", str(path), "--json"], capture_output=True,
                         text=True, timeout=60, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"newsmon fetch {path} exited {run.returncode}: {run.stderr}")
    items = [json.loads(line) for line in run.stdout.splitlines()]
    return [{"title": normalise(i["title"]), "link": i["link"], "published": i["published"]}
            for i in items]


def theirs(path):
    parsed = feedparser.parse(path.read_bytes())
    if parsed.bozo:
        return None
    items = []
    for entry in parsed.entries:
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = None
        if stamp is not None:
            published = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                      time.gmtime(calendar.timegm(stamp)))
        items.append({"title": normalise(entry.get("title")), "link": entry.get("link"),
                      "published": published})
    return items


def differences(mine, other):
    """The fields (and the first differing values) where the two item lists disagree."""
    found = {}
    if len(mine) != len(other):
        found["count"] = (len(mine), len(other))
    for a, b in zip(mine, other):
        for field in ("title", "link", "published"):
            if a[field] != b[field] and field not in found:
                found[field] = (a[field], b[field])
    return found


def wanted(path):
    """Well-formed feed fixtures that need no per-source options."""
    if path.suffix not in FEED_SUFFIXES:
        return False
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text("utf-8"))
    options = expected.get("options", {})
    return (expected.get("error") is None and not options.get("url")
            and not options.get("content_type") and options.get("kind", "auto") == "auto")


def main():
    binary, fixture_dir = sys.argv[1], pathlib.Path(sys.argv[2])
    compared, failures, explained = 0, [], set()
    for path in sorted(p for p in fixture_dir.iterdir() if wanted(p)):
        other = theirs(path)
        if other is None:
            print(f"skip  {path.name}: feedparser finds it malformed (bozo)")
            continue
        compared += 1
        found = differences(ours(binary, path), other)
        for field, (mine, their) in sorted(found.items()):
            key = (path.stem, field)
            if key in KNOWN:
                explained.add(key)
                print(f"known {path.name} {field}: {KNOWN[key]}")
            else:
                failures.append(f"{path.name} {field}: newsmon {mine!r} vs feedparser {their!r}")
        if not found:
            print(f"same  {path.name}")
    for key in sorted(set(KNOWN) - explained):
        failures.append(f"{key[0]} {key[1]}: listed in KNOWN but the parsers now agree")
    if compared < MIN_COMPARED:
        failures.append(f"only {compared} fixtures compared; expected at least {MIN_COMPARED}")
    print(f"{compared} fixtures compared, {len(explained)} known differences")
    for failure in failures:
        print(f"FAIL  {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
