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
import html
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
    # Titles: feedparser returns type="html" titles as sanitised HTML; newsmon returns the
    # text a person reads (and rules match): tags stripped.
    ("atom10_feed", "title"): "feedparser keeps <em> markup and &apos; in an html title",
    ("atom10_text_constructs", "title"): "feedparser keeps <b> markup in an html title",
    ("titles_with_markup", "title"): "feedparser keeps <b> markup in the title",
    # Double escaping: "&amp;amp;" in the XML is "&amp;" in the HTML, which reads "&".
    ("entities_double_escaped", "title"): "feedparser stops one decoding level short",
    # Entries without a usable alternate link: feedparser falls back to the entry's id
    # even when that is a tag: or urn: URI, which no browser can open.
    ("atom10_text_constructs", "link"): "feedparser uses a urn:uuid id as the link",
    ("atom_authors", "link"): "feedparser uses a tag: id as the link",
    ("atom_date_sources", "link"): "feedparser uses a tag: id as the link",
    ("atom_summary_content", "link"): "feedparser uses a tag: id as the link",
    ("dates_rfc3339", "link"): "feedparser uses a tag: id as the link",
    ("atom_link_choice", "link"): "the only alternate is a PDF: newsmon links to it, "
                                  "feedparser uses the tag: id",
    # Link choice in RSS: the item's own <link> is the article; feedparser lets a later
    # atom:link (here an AMP page) overwrite it.
    ("rss20_link_sources", "link"): "feedparser takes the last alternate, not <link>",
    # RFC 3986 resolution removes dot segments (section 5.2.2); feedparser keeps them.
    ("rss20_guid_and_ids", "link"): "newsmon removes the /news/../ dot segment",
    # A relative item link in a file with no URL: newsmon resolves it against the
    # channel's <link>, feedparser leaves it relative (useless in an alert).
    ("rss20_relative_links_channel_link", "link"): "newsmon resolves against the channel link",
    # Dates: obsolete zone names and a missing zone.
    ("dates_rfc822_zones", "published"): "feedparser reads MSK (+03:00) as UTC",
    ("dates_rfc822_sloppy", "published"): "feedparser cannot read an RFC 822 date without "
                                          "a zone; newsmon reads it as UTC",
    # Items without a title: newsmon lets the summary stand in (rules need a headline),
    # feedparser has no title; items with neither are skipped (nothing to match or show).
    ("rss092_untitled_items", "title"): "the summary stands in for the missing title",
    ("rss20_missing_title", "title"): "the summary stands in for the missing title",
    ("rss20_item_without_title_or_summary", "count"): "newsmon skips the item with neither "
                                                      "title nor summary",
    # media:title stands in for a missing Atom title (YouTube feeds).
    ("atom_youtube_media", "title"): "feedparser ignores media:title",
}

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
MIN_COMPARED = 25


def normalise(text):
    """Whitespace as both parsers should show it: runs collapsed, ends trimmed."""
    if text is None:
        return None
    return re.sub(r"\s+", " ", text).strip()


def text_of(markup):
    """What a reader sees of feedparser's (HTML) summary."""
    return normalise(html.unescape(re.sub(r"<[^>]*>", " ", markup or "")))


def ours(binary, path):
    run = subprocess.run([binary, "fetch", str(path), "--json"], capture_output=True,
                         text=True, timeout=60, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"newsmon fetch {path} exited {run.returncode}: {run.stderr}")
    items = [json.loads(line) for line in run.stdout.splitlines()]
    return [{"title": normalise(i["title"]), "link": i["link"], "published": i["published"]}
            for i in items]


def theirs(path):
    try:
        parsed = feedparser.parse(path.read_bytes())
    except Exception as error:  # pylint: disable=broad-except
        # feedparser's lax sgmllib fallback can raise (e.g. on "&#xD800;").
        print(f"skip  {path.name}: feedparser raises {type(error).__name__}: {error}")
        return None
    if parsed.bozo:
        print(f"skip  {path.name}: feedparser finds it malformed (bozo)")
        return None
    items = []
    for entry in parsed.entries:
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = None
        if stamp is not None:
            published = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                      time.gmtime(calendar.timegm(stamp)))
        items.append({"title": normalise(entry.get("title")), "link": entry.get("link"),
                      "published": published,
                      "empty": not entry.get("title") and not text_of(entry.get("summary"))})
    return items


def differences(mine, other):
    """The fields (and the first differing values) where the two item lists disagree."""
    found = {}
    # newsmon skips items with neither title nor summary; compare the rest item by item.
    kept = [item for item in other if not item["empty"]]
    if len(mine) != len(other):
        found["count"] = (len(mine), len(other))
    other = kept
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
