#!/usr/bin/python3
"""Peer for parse_bench: Python's feedparser on every file of a directory.

Usage: feedparser_peer.py DIR
Prints one JSON line {"bytes": N, "items": N, "seconds": S, "files": N, "errors": N}.
Only feedparser.parse() is timed, in CPU time as parse_bench measures newsmon (the
machines are shared, so wall time is noisy): interpreter start-up and file reading are
not. feedparser does its own charset detection, as newsmon does, so it gets raw bytes.
"""
import io
import json
import os
import sys
import time

import feedparser

WARM_UP_FILES = 50


def main():
    directory = sys.argv[1]
    names = sorted(os.listdir(directory))
    bodies = []
    for name in names:
        with open(os.path.join(directory, name), "rb") as f:
            bodies.append(f.read())

    # Warm-up, untimed: the first files once, so imports and caches settle as they would in
    # a long-running process (the same as the node peer, where it matters for the JIT).
    for body in bodies[:WARM_UP_FILES]:
        feedparser.parse(io.BytesIO(body))

    total_bytes = sum(len(b) for b in bodies)
    items = 0
    errors = 0
    seconds = 0.0
    for body in bodies:
        # A file object, so feedparser never tries the bytes as a file name or URL.
        stream = io.BytesIO(body)
        start = time.process_time()
        parsed = feedparser.parse(stream)
        seconds += time.process_time() - start
        items += len(parsed.entries)
        # bozo alone marks a document feedparser worked around; no entries as well is a failure.
        if parsed.bozo and not parsed.entries:
            errors += 1

    print(json.dumps({"bytes": total_bytes, "items": items, "seconds": seconds,
                      "files": len(bodies), "errors": errors}))


if __name__ == "__main__":
    main()
