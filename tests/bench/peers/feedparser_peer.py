#!/usr/bin/python3
"""Peer for parse_bench: Python's feedparser on every file of a directory, and optionally
every item matched against keyword rules with Python's `re`.

Usage: feedparser_peer.py DIR [RULES.json [MATCH_EVERY]]
Prints one JSON line {"bytes": N, "items": N, "seconds": S, "files": N, "errors": N}, plus
"match_seconds": S, "matches": N, "rules": N, "match_files": N, "match_bytes": N,
"match_items": N when given rules. Every file is parsed; with MATCH_EVERY = K (default 1) only
the items of every K-th file (in name order, the first included) are matched, as matching in
Python takes ~10 times as long as parsing: the match figures are for those files.
Only feedparser.parse() is timed ("seconds"), and the matching apart from it
("match_seconds"), in CPU time as parse_bench measures newsmon (the machines are shared, so
wall time is noisy): interpreter start-up, file reading and compiling the rules are not.
feedparser does its own charset detection, as newsmon does, so it gets raw bytes.

RULES.json is what parse_bench writes: {"rules": [{"name", "python": {"any", "none"}}]}, each
regex a source for re.compile(..., re.IGNORECASE). A rule fires on an item when "any"
matches its title or summary and "none" (when not null) matches neither, as newsmon's
rules do; "matches" counts the (item, rule) pairs that fire.

feedparser's summary is sanitized HTML, not text: here its tags are removed and its entities
decoded (timed as matching), so that rules see the text newsmon's do; otherwise a phrase
whose words sit on both sides of a tag ("central <b>bank</b>") or of an entity
("central&nbsp;bank") would not match.
"""
import html
import io
import json
import os
import re
import sys
import time

import feedparser

WARM_UP_FILES = 50
TAG = re.compile(r"<[^>]*>")


def load_rules(path):
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    rules = []
    for rule in spec["rules"]:
        regexes = rule["python"]
        any_of = re.compile(regexes["any"], re.IGNORECASE).search
        none = regexes.get("none")
        rules.append((any_of, re.compile(none, re.IGNORECASE).search if none else None))
    return rules


def match(entries, rules):
    """The (item, rule) pairs that fire among `entries`."""
    count = 0
    for entry in entries:
        texts = []
        title = entry.get("title")
        if title:
            texts.append(title)
        summary = entry.get("summary")
        if summary:
            texts.append(html.unescape(TAG.sub("", summary)))
        for any_of, none in rules:
            for text in texts:
                if any_of(text):
                    break
            else:
                continue
            if none is not None and any(none(text) for text in texts):
                continue
            count += 1
    return count


def main():
    directory = sys.argv[1]
    rules = load_rules(sys.argv[2]) if len(sys.argv) > 2 else None
    match_every = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    names = sorted(os.listdir(directory))
    bodies = []
    for name in names:
        with open(os.path.join(directory, name), "rb") as f:
            bodies.append(f.read())

    # Warm-up, untimed: the first files once, so imports and caches settle as they would in
    # a long-running process (the same as the node peer, where it matters for the JIT).
    for body in bodies[:WARM_UP_FILES]:
        parsed = feedparser.parse(io.BytesIO(body))
        if rules:
            match(parsed.entries, rules)

    total_bytes = sum(len(b) for b in bodies)
    items = 0
    errors = 0
    seconds = 0.0
    match_seconds = 0.0
    matches = 0
    match_files = match_bytes = match_items = 0
    for index, body in enumerate(bodies):
        # A file object, so feedparser never tries the bytes as a file name or URL.
        stream = io.BytesIO(body)
        start = time.process_time()
        parsed = feedparser.parse(stream)
        parsed_at = time.process_time()
        seconds += parsed_at - start
        if rules and index % match_every == 0:
            matches += match(parsed.entries, rules)
            match_seconds += time.process_time() - parsed_at
            match_files += 1
            match_bytes += len(body)
            match_items += len(parsed.entries)
        items += len(parsed.entries)
        # bozo alone marks a document feedparser worked around; no entries as well is a failure.
        if parsed.bozo and not parsed.entries:
            errors += 1

    report = {"bytes": total_bytes, "items": items, "seconds": seconds,
              "files": len(bodies), "errors": errors}
    if rules:
        report.update({"match_seconds": match_seconds, "matches": matches, "rules": len(rules),
                       "match_files": match_files, "match_bytes": match_bytes,
                       "match_items": match_items})
    print(json.dumps(report))


if __name__ == "__main__":
    main()
