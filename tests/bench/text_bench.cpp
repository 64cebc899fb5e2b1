// What each kind of markup costs text cleaning (parse::CleanText on HTML known to be valid
// UTF-8, as Parse calls it; parse::CleanXmlText on the same HTML escaped, as feeds carry it): the
// cost of a feed's summaries is almost all in the events between runs of plain text, not in the
// bytes.
//
// Each text is 60 words; every case puts one markup event after every fourth word (15 per
// text): a tag pair, a tag with an attribute, a reference, a character that the fast scan
// stops at, two spaces. "none" is the plain text, "mixed" draws each event from all the
// others at random, as descriptions do. The summary prints each case's cost per text and
// per event above "none".
//
//   text_bench          smoke run (what ctest runs)
//   text_bench --full   medians of 5 interleaved repetitions
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/parse/text.h"
#include "tests/bench/bench_support.h"

namespace {

using newsmon::parse::TextKind;

constexpr std::uint64_t kSeed = 20261128;
constexpr int kTexts = 2000;
constexpr int kWords = 60;
constexpr int kEventEvery = 4;
constexpr std::size_t kMaxBytes = 65536;

struct Case {
  std::string_view name;
  std::string_view html;  // inserted after a word; empty for none
};

constexpr Case kCases[] = {
    {"none", ""},
    {"<p>", "<p>"},
    {"<b>x</b>", "<b>x</b>"},
    {"<a href>x</a>", "<a href=\"https://news1.example.org/tag/123\">x</a>"},
    {"&quot;", "&quot;"},
    {"&nbsp;&mdash;", "&nbsp;&mdash;"},
    {"&#8217;", "&#8217;"},
    {"&amp;", "&amp;"},
    {"\u201c (U+201C)", "\u201c"},
    {"two spaces", "  "},
    {"mixed", ""},  // one of the cases above (but none) at random, per event
};
constexpr std::size_t kMixed = std::size(kCases) - 1;

constexpr std::string_view kWordList[] = {"government", "minister", "announced", "new",
                                          "plan",       "to",       "reduce",    "energy",
                                          "prices",     "after",    "talks",     "with"};

std::vector<std::string> MakeTexts(std::size_t case_index, bool escaped) {
  newsmon::bench::Random rng(kSeed + case_index);
  std::vector<std::string> texts;
  for (int t = 0; t < kTexts; ++t) {
    std::string html;
    for (int w = 0; w < kWords; ++w) {
      if (w > 0) html += ' ';
      html += rng.Pick(kWordList);
      if (case_index == 0 || w % kEventEvery != kEventEvery - 1) continue;
      std::size_t pick = case_index == kMixed ? 1 + rng.Below(kMixed - 1) : case_index;
      html += kCases[pick].html;
    }
    texts.push_back(escaped ? newsmon::bench::XmlEscaped(html) : html);
  }
  return texts;
}

void BM_Clean(benchmark::State& state, const std::vector<std::string>* texts, bool escaped) {
  std::size_t bytes = 0;
  for (const auto& text : *texts) bytes += text.size();
  for (auto _ : state) {
    for (const auto& text : *texts) {
      std::string clean = escaped ? newsmon::parse::CleanXmlText(text, TextKind::kHtml, kMaxBytes)
                                  : newsmon::parse::CleanText(text, TextKind::kHtml, kMaxBytes,
                                                              newsmon::parse::Utf8Input::kValid);
      benchmark::DoNotOptimize(clean);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * texts->size()));
}

std::string BenchName(std::size_t case_index, bool escaped) {
  return std::string(escaped ? "escaped/" : "html/") + std::string(kCases[case_index].name);
}

}  // namespace

int main(int argc, char** argv) {
  bool full = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--full") {
      full = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  if (!newsmon::bench::InitializeBenchmark(args, full)) return 1;

  // Built before any run, kept alive while the benchmarks read them.
  std::vector<std::vector<std::string>> texts;
  texts.reserve(2 * std::size(kCases));
  for (bool escaped : {false, true}) {
    for (std::size_t c = 0; c < std::size(kCases); ++c) {
      texts.push_back(MakeTexts(c, escaped));
      benchmark::RegisterBenchmark(BenchName(c, escaped).c_str(), BM_Clean, &texts.back(), escaped);
    }
  }
  newsmon::bench::RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  const int events = kWords / kEventEvery;
  std::printf("\ntext_bench summary (%s run): %d texts of %d words, %d events each\n",
              full ? "full" : "smoke", kTexts, kWords, events);
  std::printf("%-22s %14s %14s %16s %16s\n", "event", "html ns/text", "esc. ns/text",
              "html ns/event", "esc. ns/event");
  for (std::size_t c = 0; c < std::size(kCases); ++c) {
    double ns[2] = {0, 0}, extra[2] = {0, 0};
    for (bool escaped : {false, true}) {
      auto rate = reporter.Find(BenchName(c, escaped));
      auto none = reporter.Find(BenchName(0, escaped));
      if (!rate || !none || rate->items_per_second <= 0 || none->items_per_second <= 0) continue;
      ns[escaped] = 1e9 / rate->items_per_second;
      extra[escaped] = (ns[escaped] - 1e9 / none->items_per_second) / events;
    }
    std::printf("%-22.*s %14.1f %14.1f %16.1f %16.1f\n", static_cast<int>(kCases[c].name.size()),
                kCases[c].name.data(), ns[0], ns[1], c == 0 ? 0.0 : extra[0],
                c == 0 ? 0.0 : extra[1]);
  }
  return 0;
}
