// How fast parse::Parse turns feeds into Items, against the floor of pugixml's raw parse of
// the same bytes and against two widely used parsers (Python's feedparser, npm rss-parser),
// how much memory one 50 MB feed costs, and parse + match: every item matched against 200
// generated rules (rules::RuleSet::Match), next to the peers matching with their own regex
// engines (Python re, JS RegExp). Targets (tests/bench/README.md): full parse at least 40% of
// pugixml's raw speed, at least 8x the faster peer, peak memory for the 50 MB feed under 4x
// its size; parse + match at least 25x the faster peer doing the same.
//
//   parse_bench          smoke run (what ctest runs): 20 feeds and a 1 MB feed, no peers
//   parse_bench --full   thousands of feeds and a 50 MB feed, medians of 5 repetitions, peers
//   parse_bench --full --no-peers
//
// The corpus is generated here, deterministically (fixed seed), so every run and every
// machine parses the same bytes. Google Benchmark's flags work (--benchmark_filter=parse/,
// --benchmark_out=FILE for JSON); the console table and the summary are always printed.
#include <iconv.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/rule.h"
#include "daemon/parse/parse.h"
#include "daemon/rules/rules.h"
#include "tests/bench/bench_support.h"

namespace {

using newsmon::bench::AppendXmlEscaped;
using newsmon::bench::Random;
using newsmon::bench::Rate;
using newsmon::bench::RateReporter;
using newsmon::bench::Split;
using newsmon::bench::XmlEscaped;

namespace fs = std::filesystem;
using newsmon::parse::Parse;

// ---------------------------------------------------------------------------------------
// The generated corpus.

constexpr std::uint64_t kSeed = 20250603;

constexpr std::array<std::string_view, 96> kEnglishWords = {
    "government",    "minister",   "announced", "new",
    "plan",          "to",         "reduce",    "energy",
    "prices",        "after",      "talks",     "with",
    "industry",      "leaders",    "on",        "Tuesday",
    "the",           "city",       "council",   "voted",
    "for",           "budget",     "schools",   "hospital",
    "workers",       "strike",     "over",      "pay",
    "and",           "conditions", "police",    "said",
    "investigation", "into",       "fire",      "at",
    "warehouse",     "continues",  "market",    "shares",
    "rose",          "sharply",    "as",        "investors",
    "welcomed",      "central",    "bank",      "decision",
    "interest",      "rates",      "storm",     "expected",
    "bring",         "heavy",      "rain",      "coast",
    "weekend",       "football",   "club",      "signs",
    "striker",       "record",     "fee",       "scientists",
    "discover",      "species",    "deep",      "ocean",
    "researchers",   "found",      "evidence",  "of",
    "climate",       "change",     "in",        "mountain",
    "region",        "election",   "results",   "show",
    "close",         "race",       "between",   "two",
    "parties",       "local",      "residents", "protest",
    "against",       "airport",    "expansion", "company",
    "reports",       "quarterly",  "profit",    "despite"};

constexpr std::array<std::string_view, 48> kRussianWords = {"правительство",
                                                            "министр",
                                                            "объявил",
                                                            "новый",
                                                            "план",
                                                            "снижения",
                                                            "цен",
                                                            "на",
                                                            "энергию",
                                                            "после",
                                                            "переговоров",
                                                            "с",
                                                            "представителями",
                                                            "отрасли",
                                                            "во",
                                                            "вторник",
                                                            "городской",
                                                            "совет",
                                                            "проголосовал",
                                                            "за",
                                                            "бюджет",
                                                            "школы",
                                                            "больницы",
                                                            "работники",
                                                            "забастовка",
                                                            "из-за",
                                                            "зарплаты",
                                                            "полиция",
                                                            "сообщила",
                                                            "о",
                                                            "расследовании",
                                                            "пожара",
                                                            "на складе",
                                                            "рынок",
                                                            "акции",
                                                            "выросли",
                                                            "инвесторы",
                                                            "решение",
                                                            "центрального",
                                                            "банка",
                                                            "ставки",
                                                            "шторм",
                                                            "ожидается",
                                                            "побережье",
                                                            "выходные",
                                                            "футбольный",
                                                            "клуб",
                                                            "рекорд"};

constexpr std::array<std::string_view, 10> kCategories = {
    "World", "Politics", "Business", "Technology", "Science",
    "Sport", "Culture",  "Health",   "Local",      "Opinion"};
constexpr std::array<std::string_view, 6> kRussianCategories = {"В мире",   "Политика", "Экономика",
                                                                "Общество", "Спорт",    "Культура"};
constexpr std::array<std::string_view, 8> kAuthors = {
    "Jane Roe",        "John Smith",   "Maria García", "Chen Wei",
    "Olena Kovalenko", "Ahmed Hassan", "Anna Müller",  "News Desk"};
constexpr std::array<std::string_view, 4> kRussianAuthors = {"Иван Петров", "Ольга Смирнова",
                                                             "Редакция", "Анна Кузнецова"};
constexpr std::array<std::string_view, 5> kRfc822Zones = {"+0000", "GMT", "+0300", "-0500",
                                                          "+0100"};
constexpr std::array<std::string_view, 3> kRfc3339Zones = {"Z", "+03:00", "-05:00"};

struct Language {
  const std::array<std::string_view, 96>* english = nullptr;  // one of the two is set
  const std::array<std::string_view, 48>* russian = nullptr;

  std::string_view Word(Random& rng) const {
    return english ? rng.Pick(*english) : rng.Pick(*russian);
  }
  std::string_view Category(Random& rng) const {
    return english ? rng.Pick(kCategories) : rng.Pick(kRussianCategories);
  }
  std::string_view Author(Random& rng) const {
    return english ? rng.Pick(kAuthors) : rng.Pick(kRussianAuthors);
  }
};

// A headline of about 80 characters, with the punctuation real ones carry.
std::string Title(Random& rng, const Language& lang) {
  std::size_t target = 60 + rng.Below(41);
  std::string title;
  while (title.size() < target) {
    if (!title.empty()) title += ' ';
    std::string_view word = lang.Word(rng);
    std::size_t r = rng.Below(100);
    if (r < 3) {
      title += lang.english ? "“" : "«";
      title += word;
      title += lang.english ? "”" : "»";
    } else if (r < 5) {
      title += "&";
    } else if (r < 7) {
      title += word;
      title += ":";
    } else {
      title += word;
    }
  }
  if (lang.english && title[0] >= 'a' && title[0] <= 'z')
    title[0] = static_cast<char>(title[0] - 32);
  return title;
}

// An HTML description of 400-800 characters: paragraphs, a few links and inline tags, and
// the entities CMSes write.
std::string DescriptionHtml(Random& rng, const Language& lang, std::string_view site) {
  std::size_t target = 400 + rng.Below(401);
  std::string html;
  if (rng.Percent(20)) {
    html += "<img src=\"https://";
    html += site;
    html += "/media/" + std::to_string(rng.Below(1000000)) + ".jpg\" alt=\"\" width=\"640\"/>";
  }
  html += "<p>";
  while (html.size() < target) {
    std::size_t words = 8 + rng.Below(9);
    for (std::size_t w = 0; w < words; ++w) {
      if (w > 0) html += ' ';
      std::string_view word = lang.Word(rng);
      std::size_t r = rng.Below(100);
      if (r < 4) {
        html += "<a href=\"https://";
        html += site;
        html += "/tag/" + std::to_string(rng.Below(500)) + "\">";
        html += word;
        html += "</a>";
      } else if (r < 7) {
        html += "<b>";
        html += word;
        html += "</b>";
      } else if (r < 9) {
        html += "<em>";
        html += word;
        html += "</em>";
      } else if (r < 11) {
        html += lang.english ? "&quot;" : "&laquo;";
        html += word;
        html += lang.english ? "&quot;" : "&raquo;";
      } else if (r < 13) {
        html += word;
        html += "&nbsp;&mdash;";
      } else if (r < 14 && lang.english) {
        html += word;
        html += "&#8217;s";
      } else if (r < 15) {
        html += "&amp;";
      } else {
        html += word;
      }
    }
    html += ". ";
    if (rng.Percent(15)) html += "</p><p>";
  }
  html += "</p>";
  return html;
}

std::string Rfc822(std::chrono::sys_seconds t, std::string_view zone) {
  using namespace std::chrono;
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{t - day};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02u %s %d %02d:%02d:%02d %.*s",
                kDays[weekday{day}.c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(zone.size()),
                zone.data());
  return buffer;
}

std::string Rfc3339(std::chrono::sys_seconds t, std::string_view zone) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{t - day};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d%.*s",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(zone.size()), zone.data());
  return buffer;
}

// One news story, in whichever format the feed is written.
struct Story {
  std::string title;
  std::string url;
  std::string id;  // guid / atom:id
  bool guid_is_url = true;
  std::chrono::sys_seconds published;
  std::string description_html;
  std::vector<std::string_view> categories;
  std::optional<std::string_view> author;
};

Story MakeStory(Random& rng, const Language& lang, std::string_view site, int feed, int n,
                std::chrono::sys_seconds& clock) {
  Story s;
  s.title = Title(rng, lang);
  std::string number = std::to_string(feed) + "-" + std::to_string(n);
  s.url = "https://" + std::string(site) + "/news/2025/06/story-" + number + ".html";
  s.guid_is_url = rng.Percent(60);
  s.id = s.guid_is_url ? s.url : "urn:uuid:" + std::to_string(rng.Next());
  clock -= std::chrono::seconds(60 + rng.Below(3600));
  s.published = clock;
  s.description_html = DescriptionHtml(rng, lang, site);
  std::size_t categories = 1 + rng.Below(3);
  for (std::size_t i = 0; i < categories; ++i) s.categories.push_back(lang.Category(rng));
  if (rng.Percent(40)) s.author = lang.Author(rng);
  return s;
}

void AppendRssItem(std::string& out, Random& rng, const Story& s) {
  out += "    <item>\n      <title>";
  AppendXmlEscaped(out, s.title);
  out += "</title>\n      <link>" + s.url + "</link>\n";
  out += s.guid_is_url ? "      <guid>" : "      <guid isPermaLink=\"false\">";
  out += s.id + "</guid>\n      <pubDate>" + Rfc822(s.published, rng.Pick(kRfc822Zones)) +
         "</pubDate>\n      <description>";
  // Both ways feeds carry HTML: CDATA, or escaped.
  if (rng.Percent(50)) {
    out += "<![CDATA[" + s.description_html + "]]>";
  } else {
    AppendXmlEscaped(out, s.description_html);
  }
  out += "</description>\n";
  for (std::string_view c : s.categories) {
    out += "      <category>";
    AppendXmlEscaped(out, c);
    out += "</category>\n";
  }
  if (s.author) {
    out += "      <dc:creator>";
    AppendXmlEscaped(out, *s.author);
    out += "</dc:creator>\n";
  }
  out += "    </item>\n";
}

std::string RssHeader(std::string_view encoding, std::string_view site, std::string_view title,
                      std::string_view language, std::chrono::sys_seconds now) {
  std::string out = "<?xml version=\"1.0\" encoding=\"" + std::string(encoding) + "\"?>\n";
  out +=
      "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
      "xmlns:atom=\"http://www.w3.org/2005/Atom\" "
      "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">\n  <channel>\n    <title>";
  AppendXmlEscaped(out, title);
  out += "</title>\n    <link>https://" + std::string(site) + "/</link>\n    <description>";
  AppendXmlEscaped(out, title);
  out += " — latest news</description>\n    <language>" + std::string(language) +
         "</language>\n    <lastBuildDate>" + Rfc822(now, "+0000") +
         "</lastBuildDate>\n    <atom:link href=\"https://" + std::string(site) +
         "/feed.xml\" rel=\"self\" type=\"application/rss+xml\"/>\n"
         "    <generator>WordPress 6.5</generator>\n    <ttl>30</ttl>\n";
  return out;
}

constexpr std::string_view kRssFooter = "  </channel>\n</rss>\n";

std::string Utf8ToWindows1251(const std::string& utf8) {
  iconv_t cd = iconv_open("WINDOWS-1251", "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    std::perror("parse_bench: iconv_open");
    std::exit(1);
  }
  std::string out(utf8.size(), '\0');
  char* in = const_cast<char*>(utf8.data());
  std::size_t in_left = utf8.size();
  char* to = out.data();
  std::size_t out_left = out.size();
  if (iconv(cd, &in, &in_left, &to, &out_left) == static_cast<std::size_t>(-1)) {
    std::perror("parse_bench: iconv (generator wrote a character windows-1251 lacks)");
    std::exit(1);
  }
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

struct Feed {
  std::string bytes;
  std::size_t items = 0;
};

constexpr std::chrono::sys_seconds kNow =
    std::chrono::sys_days{std::chrono::year{2025} / 6 / 3} + std::chrono::hours{9};

Feed RssFeed(Random& rng, int index, std::size_t items, bool windows1251) {
  Language lang{.english = windows1251 ? nullptr : &kEnglishWords,
                .russian = windows1251 ? &kRussianWords : nullptr};
  std::string site = (windows1251 ? "novosti" : "news") + std::to_string(index) + ".example.org";
  std::string title = windows1251 ? "Новости " + std::to_string(index)
                                  : "The Daily " + std::to_string(index) + " & Co";
  Feed feed{.items = items};
  feed.bytes = RssHeader(windows1251 ? "windows-1251" : "UTF-8", site, title,
                         windows1251 ? "ru" : "en-us", kNow);
  auto clock = kNow;
  for (std::size_t n = 0; n < items; ++n) {
    AppendRssItem(feed.bytes, rng, MakeStory(rng, lang, site, index, static_cast<int>(n), clock));
  }
  feed.bytes += kRssFooter;
  if (windows1251) feed.bytes = Utf8ToWindows1251(feed.bytes);
  return feed;
}

Feed AtomFeed(Random& rng, int index, std::size_t items) {
  Language lang{.english = &kEnglishWords};
  std::string site = "blog" + std::to_string(index) + ".example.net";
  Feed feed{.items = items};
  std::string& out = feed.bytes;
  out =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n";
  out += "  <title>Blog " + std::to_string(index) + "</title>\n  <link href=\"https://" + site +
         "/\" rel=\"alternate\"/>\n  <link href=\"https://" + site +
         "/atom.xml\" rel=\"self\"/>\n  <id>https://" + site + "/</id>\n  <updated>" +
         Rfc3339(kNow, "Z") + "</updated>\n  <author><name>" + std::string(rng.Pick(kAuthors)) +
         "</name></author>\n";
  auto clock = kNow;
  for (std::size_t n = 0; n < items; ++n) {
    Story s = MakeStory(rng, lang, site, index, static_cast<int>(n), clock);
    std::string_view zone = rng.Pick(kRfc3339Zones);
    out += "  <entry>\n    <title type=\"html\">";
    AppendXmlEscaped(out, s.title);
    out += "</title>\n    <link rel=\"alternate\" type=\"text/html\" href=\"" + s.url +
           "\"/>\n    <id>tag:" + site + ",2025:" + std::to_string(index) + "-" +
           std::to_string(n) + "</id>\n    <published>" + Rfc3339(s.published, zone) +
           "</published>\n    <updated>" + Rfc3339(s.published + std::chrono::minutes(5), zone) +
           "</updated>\n";
    if (s.author) out += "    <author><name>" + XmlEscaped(*s.author) + "</name></author>\n";
    for (std::string_view c : s.categories) {
      out += "    <category term=\"" + XmlEscaped(c) + "\"/>\n";
    }
    out += "    <summary type=\"html\">";
    AppendXmlEscaped(out, s.description_html);
    out += "</summary>\n  </entry>\n";
  }
  out += "</feed>\n";
  return feed;
}

struct Corpus {
  std::vector<std::string> feeds;
  std::size_t bytes = 0;
  std::size_t items = 0;
  int rss = 0, atom = 0, windows1251 = 0;
};

// Mostly RSS 2.0, some Atom, a few windows-1251; 40-60 items each.
Corpus MakeCorpus(int count) {
  Random rng(kSeed);
  Corpus corpus;
  for (int i = 0; i < count; ++i) {
    std::size_t items = 40 + rng.Below(21);
    std::size_t kind = rng.Below(100);
    Feed feed;
    if (kind < 15) {
      feed = AtomFeed(rng, i, items);
      ++corpus.atom;
    } else {
      bool cyrillic = kind < 20;
      feed = RssFeed(rng, i, items, cyrillic);
      ++corpus.rss;
      if (cyrillic) ++corpus.windows1251;
    }
    corpus.bytes += feed.bytes.size();
    corpus.items += feed.items;
    corpus.feeds.push_back(std::move(feed.bytes));
  }
  return corpus;
}

// One RSS 2.0 feed (UTF-8) of at least `size` bytes, built in place so that generating it
// leaves no high-water mark above the feed's own size.
Feed MakeBigFeed(std::size_t size) {
  Random rng(kSeed + 1);
  Language lang{.english = &kEnglishWords};
  std::string site = "archive.example.org";
  Feed feed;
  feed.bytes = RssHeader("UTF-8", site, "The Archive", "en-us", kNow);
  feed.bytes.reserve(size + 64 * 1024);
  auto clock = kNow;
  while (feed.bytes.size() < size) {
    AppendRssItem(feed.bytes, rng,
                  MakeStory(rng, lang, site, 0, static_cast<int>(feed.items), clock));
    ++feed.items;
  }
  feed.bytes += kRssFooter;
  return feed;
}

// ---------------------------------------------------------------------------------------
// Rules for "parse + match": 200 keyword rules, generated with a fixed seed, matched against
// every item's title and summary. Most keywords name places, people and topics the corpus
// never mentions (the matcher still scans every text for them); some are two-word phrases of
// the corpus's own words (each in ~1% of English items), and a few rules have a broad
// keyword found in most items, a raw pattern or a `none`. The peers get the same rules as
// regexes for their own engines (PeerRules).

constexpr int kRuleCount = 200;

constexpr std::string_view kRuleEnglishWords =
    "Kazakhstan Astana Almaty Tokayev Uzbekistan Kyrgyzstan Tashkent Bishkek Caspian Baikonur "
    "Aktau Atyrau Shymkent Karaganda Tengiz Kashagan Kazatomprom KazMunayGas Samruk OPEC Gazprom "
    "Rosneft Chevron Sinopec Huawei Nvidia Boeing Airbus NATO BRICS IMF Kremlin Beijing Brussels "
    "Ankara Tehran Baku Tbilisi uranium lithium copper wheat pipeline refinery sanctions "
    "inflation tenge devaluation earthquake wildfire drought ransomware cyberattack blackout "
    "vaccine pandemic corruption bribery referendum embezzlement extradition smuggling missile "
    "drone satellite cosmodrome hydrogen reactor Rosatom privatization bankruptcy";
constexpr std::string_view kRuleRussianWords =
    "Казахстан Астана Алматы Токаев Шымкент Караганда Актау Атырау Байконур Каспий Тенгиз "
    "Кашаган Казатомпром акимат аким мажилис Нацбанк тенге девальвация инфляция санкции "
    "нефтепровод газопровод уран литий пшеница землетрясение паводок засуха коррупция взятка "
    "хищение экстрадиция контрабанда беспилотник космодром водород АЭС Росатом ОПЕК Газпром "
    "ЕАЭС ШОС БРИКС Кремль Пекин Ташкент Бишкек референдум приватизация банкротство";
constexpr std::string_view kRuleEnglishPhrases =
    "oil exports|gas exports|grain exports|trade deal|border crossing|nuclear plant|"
    "presidential election|key rate|state of emergency|Belt and Road|Middle Corridor|"
    "Trans-Caspian|European Union|World Bank|peace talks|cease-fire|national fund|data breach|"
    "rail freight|budget deficit";
constexpr std::string_view kRuleRussianPhrases =
    "экспорт нефти|добыча газа|поставки угля|запрет экспорта|транзит нефти|ключевая ставка|"
    "чрезвычайное положение|Национальный фонд|Средний коридор|утечка данных";
// Broad keywords: each is in most items of its language.
constexpr std::string_view kBroadKeywords = "climate|warehouse*|election*|забастовк*";
// Raw patterns, written in the syntax RE2, Python's re and JS RegExp share; ';' between.
constexpr std::string_view kRulePatterns =
    "interest rates?;(?:shares|market) (?:rose|fell);heavy (?:rain|snow);"
    "city council (?:voted|votes);quarterly (?:profit|loss);Kazakh(?:stan)?;"
    "nuclear (?:plant|deal);центрального банка;(?:полиция|police) (?:сообщила|said)";
constexpr std::string_view kRuleNoneEntries = "football|футбольный|horoscope|sponsored content";

template <typename List>
std::string PickFrom(Random& rng, const List& list) {
  return std::string(list[rng.Below(std::size(list))]);
}

// Two words of the corpus's vocabulary, as a phrase a rule might watch for.
std::string CorpusPhrase(Random& rng, bool russian) {
  auto word = [&] {
    while (true) {
      std::string_view w = russian ? rng.Pick(kRussianWords) : rng.Pick(kEnglishWords);
      std::size_t letters = 0;  // code points
      for (char c : w) letters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      if (letters >= 4) return std::string(w);  // no "the", "on", "на"
    }
  };
  return word() + " " + word();
}

std::vector<newsmon::core::RuleSpec> MakeRules() {
  Random rng(kSeed + 2);
  const auto english_words = Split(kRuleEnglishWords, ' ');
  const auto russian_words = Split(kRuleRussianWords, ' ');
  const auto english_phrases = Split(kRuleEnglishPhrases, '|');
  const auto russian_phrases = Split(kRuleRussianPhrases, '|');
  const auto broad = Split(kBroadKeywords, '|');
  const auto patterns = Split(kRulePatterns, ';');
  const auto nones = Split(kRuleNoneEntries, '|');
  std::vector<newsmon::core::RuleSpec> rules;
  for (int i = 0; i < kRuleCount; ++i) {
    newsmon::core::RuleSpec spec;
    char name[32];
    std::snprintf(name, sizeof name, "rule-%03d", i);
    spec.name = name;
    spec.file = "parse_bench.yaml";
    bool russian = rng.Percent(30);
    std::size_t keywords = 2 + rng.Below(5);
    for (std::size_t k = 0; k < keywords; ++k) {
      std::size_t r = rng.Below(100);
      std::string keyword;
      if (r < 65) {
        keyword = PickFrom(rng, russian ? russian_words : english_words);
        if (rng.Percent(20)) keyword += '*';
      } else if (r < 85) {
        keyword = PickFrom(rng, russian ? russian_phrases : english_phrases);
      } else {
        keyword = CorpusPhrase(rng, russian);
      }
      spec.keywords.push_back({.text = std::move(keyword)});
    }
    if (i % 50 == 7) spec.keywords.push_back({.text = std::string(broad[(i / 50) % broad.size()])});
    if (rng.Percent(10)) spec.patterns.push_back({.text = PickFrom(rng, patterns)});
    if (rng.Percent(5)) spec.none.push_back({.text = PickFrom(rng, nones)});
    rules.push_back(std::move(spec));
  }
  return rules;
}

// Our phrase semantics (daemon/rules/phrase.h) in another engine's regex syntax, as closely
// as the generated phrases need: case-insensitive (the peers compile with re.IGNORECASE or
// the "iu" flags); Unicode word boundaries as lookarounds; any run of spaces, hyphens and
// dashes between words; a trailing '*' as the rest of the word. Phrases here have no quotes
// and no '*' inside, which the peers would need more for.
struct PeerSyntax {
  std::string_view not_after_word;   // before the phrase
  std::string_view not_before_word;  // after it, unless it ends with '*'
  std::string_view word_run;         // a trailing '*'
};
constexpr PeerSyntax kPythonSyntax = {R"((?<!\w))", R"((?!\w))", R"(\w*)"};
constexpr PeerSyntax kJsSyntax = {R"((?<![\p{L}\p{N}\p{M}_]))", R"((?![\p{L}\p{N}\p{M}_]))",
                                  R"([\p{L}\p{N}\p{M}_]*)"};
// Our separator set (phrase.cpp), in the \uXXXX escapes both engines read.
constexpr std::string_view kPeerSeparators =
    R"([\s\-\u00a0\u00ad\u1680\u2000-\u200a\u2010-\u2015\u202f\u205f\u2212\u3000]+)";

std::string PeerPhrase(std::string_view phrase, const PeerSyntax& syntax) {
  std::string body;
  bool star = false;
  for (std::string_view word : Split(phrase, ' ')) {
    for (std::string_view part : Split(word, '-')) {
      if (!body.empty()) body += kPeerSeparators;
      star = part.ends_with('*');
      if (star) part.remove_suffix(1);
      for (char c : part) {
        if (std::string_view(R"(\^$.|?*+()[]{}/)").find(c) != std::string_view::npos) body += '\\';
        body += c;
      }
      if (star) body += syntax.word_run;
    }
  }
  return std::string(syntax.not_after_word) + "(?:" + body + ")" +
         std::string(star ? "" : syntax.not_before_word);
}

// A rule's triggers (or its `none` entries) as one alternation; null when there are none.
nlohmann::ordered_json PeerAlternation(const std::vector<newsmon::core::RuleEntry>& phrases,
                                       const std::vector<newsmon::core::RuleEntry>& patterns,
                                       const PeerSyntax& syntax) {
  std::string out;
  for (const auto& e : phrases) out += (out.empty() ? "" : "|") + PeerPhrase(e.text, syntax);
  for (const auto& e : patterns) out += (out.empty() ? "(?:" : "|(?:") + e.text + ")";
  if (out.empty()) return nullptr;
  return out;
}

// The rules as the peers read them: {"rules": [{"name", "python": {"any", "none"},
// "js": {"any", "none"}}]}, every regex case-insensitive.
nlohmann::ordered_json PeerRules(const std::vector<newsmon::core::RuleSpec>& specs) {
  nlohmann::ordered_json rules = nlohmann::ordered_json::array();
  for (const auto& spec : specs) {
    auto flavour = [&](const PeerSyntax& syntax) {
      return nlohmann::ordered_json{{"any", PeerAlternation(spec.keywords, spec.patterns, syntax)},
                                    {"none", PeerAlternation(spec.none, {}, syntax)}};
    };
    rules.push_back(
        {{"name", spec.name}, {"python", flavour(kPythonSyntax)}, {"js", flavour(kJsSyntax)}});
  }
  return {{"rules", rules}};
}

// ---------------------------------------------------------------------------------------
// The measured operations.

newsmon::parse::Options BenchOptions() {
  // The daemon's limits, except max_items: its default (10,000) would stop the 50 MB feed
  // a quarter of the way in and flatter the figures.
  return {.url = "https://example.org/feed.xml",
          .source_name = "bench",
          .limits = {.max_items = 100'000'000}};
}

void BM_Parse(benchmark::State& state, const std::vector<std::string>* feeds, std::size_t bytes,
              std::size_t expected_items) {
  const auto options = BenchOptions();
  std::size_t items = 0;
  for (auto _ : state) {
    items = 0;
    for (const std::string& feed : *feeds) {
      // Parse takes its buffer by value: the copy (memcpy speed, ~2% of the time) stands in
      // for the HTTP body the daemon moves in.
      newsmon::parse::Result result = Parse(feed, options);
      if (!result.ok()) {
        state.SkipWithError(("Parse failed: " + result.error).c_str());
        return;
      }
      items += result.feed->items.size();
    }
  }
  // Fewer items than generated means a parser regression, and figures that flatter it.
  if (items != expected_items) {
    state.SkipWithError(
        ("Parse returned " + std::to_string(items) + " items of " + std::to_string(expected_items))
            .c_str());
    return;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * items));
}

// Parse, then every rule on every item (title and summary: the rules' default fields), as
// the daemon's poll loop does for each fetched feed.
void BM_ParseMatch(benchmark::State& state, const std::vector<std::string>* feeds,
                   std::size_t bytes, std::size_t expected_items,
                   const newsmon::rules::RuleSet* rules, std::vector<std::size_t>* feed_matches) {
  const auto options = BenchOptions();
  std::size_t items = 0;
  std::size_t matches = 0;
  for (auto _ : state) {
    items = 0;
    matches = 0;
    for (std::size_t f = 0; f < feeds->size(); ++f) {
      newsmon::parse::Result result = Parse((*feeds)[f], options);
      if (!result.ok()) {
        state.SkipWithError(("Parse failed: " + result.error).c_str());
        return;
      }
      std::size_t feed_match_count = 0;
      for (const newsmon::core::Item& item : result.feed->items) {
        feed_match_count += rules->Match(item, options.source_name).size();
      }
      (*feed_matches)[f] = feed_match_count;
      matches += feed_match_count;
      items += result.feed->items.size();
    }
  }
  if (items != expected_items) {
    state.SkipWithError(
        ("Parse returned " + std::to_string(items) + " items of " + std::to_string(expected_items))
            .c_str());
    return;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * items));
  state.counters["matches"] = static_cast<double>(matches);
  state.counters["dfa_fallbacks"] = static_cast<double>(rules->dfa_fallbacks());
}

void BM_PugixmlRaw(benchmark::State& state, const std::vector<std::string>* feeds,
                   std::size_t bytes, std::size_t items) {
  for (auto _ : state) {
    for (const std::string& feed : *feeds) {
      pugi::xml_document doc;
      pugi::xml_parse_result result =
          doc.load_buffer(feed.data(), feed.size(), pugi::parse_default);
      if (!result) {
        state.SkipWithError("pugixml rejected a generated feed");
        return;
      }
      benchmark::DoNotOptimize(doc.first_child());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * items));
}

// ---------------------------------------------------------------------------------------
// Peak memory of parsing the big feed, in a child process so nothing else in this process
// counts.

struct Memory {
  std::size_t input_bytes = 0;
  std::size_t baseline_kib = 0;  // child's RSS just before Parse, input included
  std::size_t peak_kib = 0;      // child's ru_maxrss
  std::size_t items = 0;
  std::string error;
};

std::size_t StatusKib(const char* key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0) return std::strtoull(line.c_str() + std::strlen(key), nullptr, 10);
  }
  return 0;
}

Memory MeasureParseMemory(std::string& feed) {
  Memory memory{.input_bytes = feed.size()};
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    memory.error = std::string("pipe: ") + std::strerror(errno);
    return memory;
  }
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    memory.error = std::string("fork: ") + std::strerror(errno);
    return memory;
  }
  if (pid == 0) {
    close(pipe_fds[0]);
    // Reset the high-water mark (Linux: "5" to clear_refs), so the peak is this parse's and
    // not whatever the parent reached before the fork. Without it, the baseline is VmHWM.
    bool reset = false;
    if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
      reset = std::fputs("5", f) >= 0;
      reset = std::fclose(f) == 0 && reset;
    }
    std::size_t baseline = StatusKib(reset ? "VmRSS:" : "VmHWM:");
    auto result = Parse(std::move(feed), BenchOptions());
    std::size_t items = result.ok() ? result.feed->items.size() : 0;
    std::string report = std::to_string(baseline) + " " + std::to_string(items) + "\n";
    ssize_t written = write(pipe_fds[1], report.data(), report.size());
    _exit(written == static_cast<ssize_t>(report.size()) && result.ok() ? 0 : 1);
  }
  close(pipe_fds[1]);
  std::string report;
  char buffer[256];
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0) report.append(buffer, n);
  close(pipe_fds[0]);
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    memory.error = "the child parsing the big feed failed";
    return memory;
  }
  std::sscanf(report.c_str(), "%zu %zu", &memory.baseline_kib, &memory.items);
  memory.peak_kib = static_cast<std::size_t>(usage.ru_maxrss);  // KiB on Linux
  return memory;
}

// ---------------------------------------------------------------------------------------
// Peers: other parsers run as child processes over the corpus written to a directory.

struct PeerResult {
  std::string name;
  std::optional<double> bytes, items, seconds;
  // With rules: CPU seconds matching (apart from `seconds` parsing) and the (item, rule)
  // matches, over the items of every match_every-th file: match_bytes of the corpus.
  std::optional<double> match_seconds, matches;
  double match_bytes = 0, match_items = 0;
  int match_every = 1;
  std::string note;  // why there are no figures, or what to know about them
};

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `command` through the shell and returns its stdout, or nullopt on a non-zero exit.
std::optional<std::string> Capture(const std::string& command) {
  std::fflush(nullptr);
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return std::nullopt;
  std::string out;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  int status = pclose(pipe);
  if (status != 0) return std::nullopt;
  return out;
}

PeerResult RunPeer(std::string name, const std::string& command, int match_every) {
  PeerResult peer{.name = std::move(name), .match_every = match_every};
  std::printf("peer %s: running\n", peer.name.c_str());
  auto out = Capture(command);
  if (!out) {
    peer.note = "failed (see its output above); command: " + command;
    return peer;
  }
  // The peer's last line is its JSON report.
  std::string_view text = *out;
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  auto last = text.rfind('\n');
  std::string_view line = last == std::string_view::npos ? text : text.substr(last + 1);
  auto json = nlohmann::json::parse(line, nullptr, false);
  if (json.is_discarded() || !json.contains("seconds")) {
    peer.note = "printed no JSON report: " + std::string(line.substr(0, 200));
    return peer;
  }
  peer.bytes = json.value("bytes", 0.0);
  peer.items = json.value("items", 0.0);
  peer.seconds = json.value("seconds", 0.0);
  if (json.contains("match_seconds")) {
    peer.match_seconds = json.value("match_seconds", 0.0);
    peer.matches = json.value("matches", 0.0);
    peer.match_bytes = json.value("match_bytes", 0.0);
    peer.match_items = json.value("match_items", 0.0);
  }
  if (int errors = json.value("errors", 0); errors > 0) {
    peer.note = std::to_string(errors) + " files failed to parse";
  }
  return peer;
}

// Each peer parses every feed of the corpus and matches the items against the rules (given
// as regexes for its engine), timing the two apart. feedparser matches the items of every
// 10th feed only: in Python, matching costs ~10x parsing (10 minutes for the whole corpus).
constexpr int kFeedparserMatchEvery = 10;

std::vector<PeerResult> RunPeers(const Corpus& corpus, const nlohmann::ordered_json& rules) {
  std::vector<PeerResult> peers;
  char pattern[] = "/tmp/parse_bench.XXXXXX";
  if (!mkdtemp(pattern)) {
    peers.push_back({.name = "all", .note = std::string("mkdtemp: ") + std::strerror(errno)});
    return peers;
  }
  const fs::path root = pattern;
  const fs::path dir = root / "feeds";
  fs::create_directory(dir);
  for (std::size_t i = 0; i < corpus.feeds.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "feed-%05zu.xml", i);
    std::ofstream(dir / name, std::ios::binary) << corpus.feeds[i];
  }
  const std::string rules_file = (root / "rules.json").string();
  std::ofstream(rules_file) << rules.dump(1) << "\n";
  const std::string peer_args = ShellQuote(dir.string()) + " " + ShellQuote(rules_file) + " ";
  const std::string peers_dir = std::string(NEWSMON_SOURCE_DIR) + "/tests/bench/peers";

  // Python's feedparser, from Debian's python3-feedparser (scripts/setup installs it).
  if (access("/usr/bin/python3", X_OK) != 0 ||
      !Capture("/usr/bin/python3 -c 'import feedparser' 2>/dev/null")) {
    peers.push_back({.name = "feedparser",
                     .note = "unavailable: /usr/bin/python3 with python3-feedparser not found"});
  } else {
    auto version =
        Capture("/usr/bin/python3 -c 'import feedparser; print(feedparser.__version__)'");
    std::string name = "feedparser " + (version ? version->substr(0, version->find('\n')) : "");
    peers.push_back(RunPeer(name,
                            "/usr/bin/python3 " + ShellQuote(peers_dir + "/feedparser_peer.py") +
                                " " + peer_args + std::to_string(kFeedparserMatchEvery),
                            kFeedparserMatchEvery));
  }

  // npm rss-parser, installed on first use into a cache beside this binary.
  const std::string cache = NEWSMON_BENCH_PEER_CACHE;
  const std::string module = cache + "/node_modules/rss-parser/package.json";
  if (!Capture("command -v node >/dev/null && command -v npm >/dev/null")) {
    peers.push_back({.name = "rss-parser", .note = "unavailable: node or npm not found"});
  } else {
    if (!fs::exists(module)) {
      std::printf("peer rss-parser: installing rss-parser@3 into %s/node_modules\n", cache.c_str());
      fs::create_directories(cache);
      Capture("npm install --no-audit --no-fund --loglevel=error --prefix " + ShellQuote(cache) +
              " rss-parser@3 >&2");
    }
    if (!fs::exists(module)) {
      peers.push_back(
          {.name = "rss-parser", .note = "unavailable: npm install rss-parser@3 failed"});
    } else {
      auto package = nlohmann::json::parse(std::ifstream(module), nullptr, false);
      std::string name = "rss-parser " + (package.is_object() ? package.value("version", "") : "");
      peers.push_back(RunPeer(name,
                              "NODE_PATH=" + ShellQuote(cache + "/node_modules") + " node " +
                                  ShellQuote(peers_dir + "/rss_parser_peer.js") + " " + peer_args +
                                  "1",
                              1));
    }
  }
  std::error_code ignored;
  fs::remove_all(root, ignored);
  return peers;
}

// ---------------------------------------------------------------------------------------

double Mb(double bytes) { return bytes / 1e6; }

void PrintRow(const char* what, const std::optional<Rate>& rate) {
  if (!rate) {
    std::printf("  %-28s %12s\n", what, "no figure (benchmark filtered out or failed)");
    return;
  }
  std::printf(
      "  %-28s %9.1f MB/s %11.0f items/s  (%s)\n", what, Mb(rate->bytes_per_second),
      rate->items_per_second,
      rate->median ? ("median of " + std::to_string(rate->repetitions)).c_str() : "single run");
}

void PrintRatio(const char* what, const std::optional<Rate>& full, const std::optional<Rate>& raw) {
  if (!full || !raw || raw->bytes_per_second <= 0) return;
  double ratio = full->bytes_per_second / raw->bytes_per_second;
  std::printf("  %-28s %9.0f%%  (target >= 40%%: %s)\n", what, ratio * 100,
              ratio >= 0.40 ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) {
  bool full = false;
  bool peers = true;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--full") {
      full = true;
    } else if (arg == "--no-peers") {
      peers = false;
    } else if (arg == "--smoke") {
      full = false;
    } else {
      args.push_back(argv[i]);
    }
  }
  if (!newsmon::bench::InitializeBenchmark(args, full)) return 1;

  const int feed_count = full ? 2000 : 20;
  const std::size_t big_size = full ? 50'000'000 : 1'000'000;
  std::printf("parse_bench (%s): generating the corpus (seed %llu)\n", full ? "full" : "smoke",
              static_cast<unsigned long long>(kSeed));

  // The big feed and its memory figure first, while this process holds little else.
  // The child moves its copy-on-write view of the feed into Parse; ours stays intact.
  Feed big = MakeBigFeed(big_size);
  Memory memory = MeasureParseMemory(big.bytes);

  const Corpus corpus = MakeCorpus(feed_count);
  const std::vector<std::string> big_feeds{std::move(big.bytes)};
  const std::size_t big_bytes = big_feeds[0].size();
  std::printf(
      "corpus: %d feeds (%d RSS 2.0 of which %d windows-1251, %d Atom), %.1f MB, %zu items"
      "\nbig feed: RSS 2.0, %.1f MB, %zu items\n\n",
      feed_count, corpus.rss, corpus.windows1251, corpus.atom, Mb(corpus.bytes), corpus.items,
      Mb(big_bytes), big.items);

  const std::vector<newsmon::core::RuleSpec> rule_specs = MakeRules();
  newsmon::rules::BuildResult built = newsmon::rules::Build(rule_specs);
  if (!built.ok()) {
    std::fprintf(stderr, "parse_bench: the generated rules do not build:\n");
    for (const auto& d : built.diagnostics) {
      std::fprintf(stderr, "  %s: %s\n", d.key.c_str(), d.message.c_str());
    }
    return 1;
  }
  std::vector<std::size_t> feed_matches(corpus.feeds.size());  // ours, per feed

  benchmark::RegisterBenchmark("parse/corpus", BM_Parse, &corpus.feeds, corpus.bytes, corpus.items)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("parse_match/corpus", BM_ParseMatch, &corpus.feeds, corpus.bytes,
                               corpus.items, built.rules.get(), &feed_matches)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("pugixml_raw/corpus", BM_PugixmlRaw, &corpus.feeds, corpus.bytes,
                               corpus.items)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("parse/big", BM_Parse, &big_feeds, big_bytes, big.items)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("pugixml_raw/big", BM_PugixmlRaw, &big_feeds, big_bytes, big.items)
      ->Unit(benchmark::kMillisecond);
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::vector<PeerResult> peer_results;
  if (full && peers) {
    std::printf("\n");
    peer_results = RunPeers(corpus, PeerRules(rule_specs));
  }

  auto parse_corpus = reporter.Find("parse/corpus");
  auto raw_corpus = reporter.Find("pugixml_raw/corpus");
  auto parse_big = reporter.Find("parse/big");
  auto raw_big = reporter.Find("pugixml_raw/big");
  std::printf("\nparse_bench summary (%s run)\n", full ? "full" : "smoke");
  std::printf("corpus of %d feeds, %.1f MB, %zu items:\n", feed_count, Mb(corpus.bytes),
              corpus.items);
  PrintRow("newsmon parse::Parse", parse_corpus);
  PrintRow("pugixml load_buffer (raw)", raw_corpus);
  PrintRatio("full / raw", parse_corpus, raw_corpus);
  std::printf("big feed, %.1f MB, %zu items:\n", Mb(big_bytes), big.items);
  PrintRow("newsmon parse::Parse", parse_big);
  PrintRow("pugixml load_buffer (raw)", raw_big);
  PrintRatio("full / raw", parse_big, raw_big);

  if (full && !peers) std::printf("peers: skipped (--no-peers)\n");
  if (!full) std::printf("peers: skipped in the smoke run (--full runs them)\n");
  if (!peer_results.empty()) std::printf("peers on the corpus (parse only, one pass):\n");
  double fastest_peer = 0;
  for (const PeerResult& peer : peer_results) {
    if (!peer.seconds || *peer.seconds <= 0) {
      std::printf("  %-28s %s\n", peer.name.c_str(), peer.note.c_str());
      continue;
    }
    double bytes_per_second = *peer.bytes / *peer.seconds;
    fastest_peer = std::max(fastest_peer, bytes_per_second);
    std::printf("  %-28s %9.2f MB/s %11.0f items/s  (%.1f s)%s%s\n", peer.name.c_str(),
                Mb(bytes_per_second), *peer.items / *peer.seconds, *peer.seconds,
                peer.note.empty() ? "" : "; ", peer.note.c_str());
  }
  if (fastest_peer > 0 && parse_corpus) {
    double multiple = parse_corpus->bytes_per_second / fastest_peer;
    std::printf("  %-28s %9.1fx  (target >= 8x: %s)\n", "newsmon / fastest peer", multiple,
                multiple >= 8 ? "met" : "MISSED");
  }

  // Parse + match: ours against the peers doing the same with their own regex engines.
  auto parse_match = reporter.Find("parse_match/corpus");
  std::size_t our_matches = 0;
  for (std::size_t m : feed_matches) our_matches += m;
  std::printf("parse + match against %d rules (title and summary of every item), corpus:\n",
              kRuleCount);
  PrintRow("newsmon Parse + Match", parse_match);
  if (parse_match) {
    std::printf("  %-28s %9zu (item, rule) matches; dfa_fallbacks %llu\n", "", our_matches,
                static_cast<unsigned long long>(built.rules->dfa_fallbacks()));
    if (parse_corpus && parse_match->bytes_per_second > 0) {
      double added = parse_corpus->bytes_per_second / parse_match->bytes_per_second - 1;
      std::printf("  %-28s %9.0f%% added to the parse time by matching\n", "", added * 100);
    }
  }
  double fastest_matching_peer = 0;
  for (const PeerResult& peer : peer_results) {
    if (!peer.seconds || !peer.match_seconds || peer.match_bytes <= 0) {
      if (peer.seconds) std::printf("  %-28s reported no matching\n", peer.name.c_str());
      continue;
    }
    // Parse time over the whole corpus plus match time per byte of the files it matched.
    double seconds = *peer.seconds + *peer.match_seconds * (*peer.bytes / peer.match_bytes);
    double bytes_per_second = *peer.bytes / seconds;
    fastest_matching_peer = std::max(fastest_matching_peer, bytes_per_second);
    std::size_t ours = 0;
    for (std::size_t f = 0; f < feed_matches.size();
         f += static_cast<std::size_t>(peer.match_every)) {
      ours += feed_matches[f];
    }
    double difference = ours > 0 ? (*peer.matches / static_cast<double>(ours) - 1) * 100 : 0;
    std::printf(
        "  %-28s %9.2f MB/s %11.0f items/s  (parse %.1f s + match %.1f s%s)\n",
        (peer.name + " + regex").c_str(), Mb(bytes_per_second), *peer.items / seconds,
        *peer.seconds, *peer.match_seconds,
        peer.match_every == 1
            ? ""
            : (" on every " + std::to_string(peer.match_every) + "th feed, scaled").c_str());
    std::printf("  %-28s %9.0f (item, rule) matches in %.0f items; newsmon %zu there: %+.2f%%\n",
                "", *peer.matches, peer.match_items, ours, difference);
  }
  if (fastest_matching_peer > 0 && parse_match) {
    double multiple = parse_match->bytes_per_second / fastest_matching_peer;
    std::printf("  %-28s %9.1fx  (target >= 25x: %s)\n", "newsmon / fastest peer", multiple,
                multiple >= 25 ? "met" : "MISSED");
  }

  std::printf("peak memory parsing the big feed (child process):\n");
  if (!memory.error.empty()) {
    std::printf("  %s\n", memory.error.c_str());
  } else {
    double added =
        static_cast<double>(memory.peak_kib - std::min(memory.peak_kib, memory.baseline_kib)) *
        1024;
    double with_input = added + static_cast<double>(memory.input_bytes);
    double ratio = with_input / static_cast<double>(memory.input_bytes);
    std::printf(
        "  input %.1f MB; parse added %.1f MB over the child's %.1f MB before it"
        " (peak RSS %.1f MB)\n",
        Mb(memory.input_bytes), Mb(added), Mb(memory.baseline_kib * 1024.0),
        Mb(memory.peak_kib * 1024.0));
    std::printf("  input + parse = %.1f MB = %.2fx the input  (target < 4x: %s); %zu items\n",
                Mb(with_input), ratio, ratio < 4 ? "met" : "MISSED", memory.items);
  }
  return 0;
}
