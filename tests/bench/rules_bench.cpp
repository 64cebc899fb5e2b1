// How fast rules::RuleSet::Match checks headlines as the rule count grows (10, 100 and 1,000
// rules), next to the naive way: one case-insensitive RE2 per rule (its keywords as one
// alternation) and RE2::PartialMatch of every rule on every headline. Targets
// (tests/bench/README.md): at least 1,000,000 headlines/s on one core at 100 rules, and the
// 1,000-rule rate no worse than a third of the 10-rule rate; dfa_fallbacks() stays 0.
//
//   rules_bench          smoke run (what ctest runs): 1,000 headlines, fresh RuleSets,
//                        single runs
//   rules_bench --full   1,000,000 headlines per configuration, medians of 5 repetitions
//   rules_bench --full --headlines=N   as --full with N headlines
//
// Rules and headlines are generated here, deterministically (fixed seed). Rules look like
// real keyword rules: 2-6 keywords each (English, Russian and Kazakh words and two-word
// phrases, some with a trailing '*'), some with one raw pattern, a few with `none`. Headlines
// are mostly 60-120 bytes of English or Russian news vocabulary that no rule uses; 3% of them
// carry a keyword (or pattern text) of one rule of the configuration, so the confirmation
// step does real work. The headline is the title field; the summary is empty. Headlines are
// generated before timing. Google Benchmark's flags work (--benchmark_filter=ruleset/); the
// console table and the summary are always printed.
#include <re2/re2.h>
#include <time.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/rule.h"
#include "daemon/rules/rules.h"
#include "tests/bench/bench_support.h"

namespace {

using newsmon::bench::Random;
using newsmon::bench::Rate;
using newsmon::bench::RateReporter;
using newsmon::bench::Split;

using newsmon::core::RuleEntry;
using newsmon::core::RuleSpec;
namespace rules = newsmon::rules;

constexpr std::uint64_t kSeed = 20261127;
constexpr std::size_t kRuleCounts[] = {10, 100, 1000};
constexpr std::size_t kInjectPercent = 3;  // headlines that carry some rule's keyword
constexpr std::string_view kSource = "bench";

// ---------------------------------------------------------------------------------------
// Vocabulary, written as word lists (one string each, split once). Headlines are made of the
// filler words; rules draw their keywords from the other lists, which share no word with the
// filler (so only injected text matches, and matching does real work on ~3% of headlines).

constexpr std::string_view kEnglishFiller =
    "government minister announces new plan to cut prices after talks with leaders on the city "
    "council votes for budget schools hospital workers over pay and police say inquiry into fire "
    "at warehouse continues market shares rise as investors welcome decision storm expected "
    "bring heavy rain coast weekend club signs record scientists discover species deep ocean "
    "find evidence of change in mountain region results show close race between two parties "
    "local residents rally against airport expansion company reports quarterly profit despite "
    "falling demand court case judge orders review officials warn about delays law could affect "
    "thousands families report finds rising costs hit small businesses hard stall ahead of "
    "deadline mayor promises housing young people face teachers calls action heat forces "
    "closures study links diet health risks opens amid tensions why it matters what we know so "
    "far live updates week years first since more than half million today football weather";

constexpr std::string_view kRussianFiller =
    "правительство министр объявил новый план снижения цен на после переговоров с во вторник "
    "городской совет проголосовал за бюджет школы больницы работники из-за зарплаты полиция "
    "сообщила о расследовании складе рынок акции выросли инвесторы решение шторм ожидается "
    "побережье выходные клуб рекорд в и по для года суд вынес приговор жители требуют ремонта "
    "дорог области района чиновники заявили глава региона провел встречу студенты университета "
    "получили гранты цены процентов эксперты прогнозируют спроса жилья аварии пострадали "
    "человек результате строительство моста начнется весной депутаты обсудили законопроект "
    "налогах учителя врачи пенсии погода футбол новости сегодня неделе тысяч";

// Places, organisations, companies and topics, as rules name them.
constexpr std::string_view kEnglishWords =
    "Kazakhstan Astana Almaty Tokayev Uzbekistan Kyrgyzstan Tashkent Bishkek Caspian Baikonur "
    "Aktau Atyrau Shymkent Karaganda Tengiz Kashagan Kazatomprom KazMunayGas Samruk Halyk Kaspi "
    "OPEC Gazprom Rosneft Chevron ExxonMobil TotalEnergies Sinopec CNPC Huawei Tesla Nvidia "
    "Microsoft Boeing Airbus NATO BRICS CSTO EAEU IMF WTO Kremlin Beijing Moscow Brussels "
    "Washington Ankara Tehran Kyiv Baku Tbilisi Yerevan Minsk uranium lithium copper wheat "
    "pipeline refinery sanctions inflation tenge ruble devaluation earthquake flood wildfire "
    "drought ransomware cyberattack blackout vaccine outbreak pandemic corruption bribery "
    "referendum coup embezzlement extradition smuggling hostage missile drone satellite "
    "spacecraft cosmodrome hydrogen solar nuclear reactor Rosatom Westinghouse privatization "
    "dividend bankruptcy Turkmenistan Tajikistan Mangystau Pavlodar Kostanay Aktobe Oral Taraz "
    "Semey Kokshetau Turkestan Zhezkazgan Ekibastuz Balkhash Khorgos Dostyk Zhanaozen Kazakhmys "
    "Kazzinc ERG Glencore Rio Tinto Lukoil Tatneft Novatek Sberbank Freedom Jusan Forte Kcell "
    "Beeline Tele2 Yandex Wildberries Ozon Alibaba Temu SCO CIS OSCE OECD UNESCO Eurasian";

// Surname roots (Latin, Cyrillic) and endings: names are most of what real rules watch for.
constexpr std::string_view kSurnameRootsLatin =
    "Abdrakhman Nurlan Sultan Zhaksybek Bekmukhamed Sarsenbay Tulegen Yerlan Kassym Marat "
    "Askar Daniyar Serik Bolat Arman Yerzhan Timur Ruslan Aidar Baurzhan Kairat Nurbol Zhanat "
    "Mukhtar Rakhim Samat Talgat Yessen Azamat Berik";
constexpr std::string_view kSurnameRootsCyrillic =
    "Абдрахман Нурлан Султан Жаксыбек Бекмухамед Сарсенбай Тулеген Ерлан Касым Марат Аскар "
    "Данияр Серик Болат Арман Ержан Тимур Руслан Айдар Бауржан Кайрат Нурбол Жанат Мухтар Рахим "
    "Самат Талгат Есен Азамат Берик";
constexpr std::string_view kSurnameEndingsLatin = "ov ova yev uly";
constexpr std::string_view kSurnameEndingsCyrillic = "ов ова ев улы";

// Two-word English phrases: any modifier with any head.
constexpr std::string_view kEnglishModifiers =
    "oil gas grain wheat coal uranium lithium copper gold steel power water rail border trade "
    "nuclear pension tax customs transit energy fuel food fertilizer cotton banking mining "
    "crypto utility tariff";
constexpr std::string_view kEnglishHeads =
    "exports imports deal tariffs reform crisis shortage ban quota subsidies output reserves "
    "sector sanctions corridor agreement dispute probe scandal bill strike auction tender "
    "licence plant project revenue fraud smuggling";

constexpr std::string_view kRussianWords =
    "Казахстан Астана Алматы Токаев Шымкент Караганда Актау Атырау Байконур Каспий Тенгиз "
    "Кашаган Казатомпром КазМунайГаз Самрук акимат аким мажилис сенат Нацбанк тенге девальвация "
    "инфляция санкции нефтепровод газопровод уран литий медь пшеница зерно землетрясение "
    "паводок наводнение засуха коррупция взятка хищение экстрадиция контрабанда беспилотник "
    "ракета спутник космодром водород АЭС реактор Росатом ОПЕК Газпром Роснефть ЕАЭС ШОС ОДКБ "
    "БРИКС НАТО Кремль Пекин Москва Ташкент Бишкек Баку Минск Анкара Тегеран забастовка митинг "
    "референдум Узбекистан Кыргызстан Туркменистан Таджикистан приватизация дивиденды "
    "банкротство отставка назначение эпидемия Мангистау Павлодар Костанай Актобе Уральск Тараз "
    "Семей Кокшетау Туркестан Жезказган Экибастуз Балхаш Хоргос Достык Жанаозен Казахмыс "
    "Казцинк Лукойл Татнефть Новатэк Сбербанк Каспи Халык Кселл Яндекс Озон";

// Two-word Russian phrases: a head and a genitive complement.
constexpr std::string_view kRussianHeads =
    "экспорт импорт добыча поставки запрет транзит переработка хранение производство дефицит "
    "субсидирование квоты продажа закупки стоимость национализация";
constexpr std::string_view kRussianComplements =
    "нефти газа угля урана зерна лития пшеницы электроэнергии меди золота хлопка удобрений "
    "стали топлива бензина дизеля сахара мяса лекарств воды тепла цемента металла";

constexpr std::string_view kKazakhWords =
    "Қазақстан үкімет Мәжіліс әкімдік Ақорда Тоқаев мұнай қаржы сайлау ауыл Түркістан Өскемен "
    "Ұлытау Қарағанды Жезқазған Ақтөбе Орал Көкшетау Қызылорда Талдықорған Маңғыстау Атырау "
    "Шымкент Семей";
constexpr std::string_view kKazakhPhrases =
    "Ұлттық банк|Қазақстан Республикасы|Мәжіліс депутаттары|мұнай өндіру|ауыл шаруашылығы|"
    "салық кодексі|Ұлттық қор|білім министрлігі|денсаулық сақтау|төтенше жағдай";

// Raw patterns (RE2 syntax, case-insensitive like the rules' default) and text that matches.
struct Pattern {
  std::string_view regex;
  std::string_view sample;
};
constexpr Pattern kPatterns[] = {
    {R"((?:oil|gas) (?:exports?|imports?))", "gas imports"},
    {R"(\d+ (?:killed|injured|dead))", "12 killed"},
    {R"((?:нефт|газ)[а-яё]* (?:экспорт|добыч)[а-яё]*)", "газовая добыча"},
    {R"(Tokayev|Тока[её]в[а-яё]*)", "Токаева"},
    {R"((?:interest|key) rates? (?:cut|hike)s?)", "key rate hike"},
    {R"(COVID-?19)", "COVID-19"},
    {R"(ставк[аиуе] (?:ФРС|Нацбанка))", "ставку Нацбанка"},
    {R"(саммит[а-яё]* (?:ЕАЭС|ШОС|ОДКБ|СНГ))", "саммита ШОС"},
    {R"([0-9]+(?:[.,][0-9]+)? ?(?:тенге|tenge))", "450 тенге"},
    {R"(Kazakh(?:stan)?i?)", "Kazakhstani"},
};

// `none` entries and text that matches them; the filler has some of these words too.
constexpr Pattern kNoneEntries[] = {
    {"football", "football"}, {"weather", "weather"},     {"футбол*", "футбола"},
    {"погода", "погода"},     {"horoscope", "horoscope"}, {"гороскоп*", "гороскопы"},
};

std::vector<std::string> Cross(std::string_view firsts, std::string_view seconds,
                               std::string_view glue) {
  std::vector<std::string> out;
  for (std::string_view a : Split(firsts)) {
    for (std::string_view b : Split(seconds))
      out.push_back(std::string(a) + std::string(glue) + std::string(b));
  }
  return out;
}

// The lists, split.
struct Vocabulary {
  std::vector<std::string_view> english_filler = Split(kEnglishFiller);
  std::vector<std::string_view> russian_filler = Split(kRussianFiller);
  std::vector<std::string> english_words =
      Words(kEnglishWords, kSurnameRootsLatin, kSurnameEndingsLatin);
  std::vector<std::string> english_phrases = Cross(kEnglishModifiers, kEnglishHeads, " ");
  std::vector<std::string> russian_words =
      Words(kRussianWords, kSurnameRootsCyrillic, kSurnameEndingsCyrillic);
  std::vector<std::string> russian_phrases = Cross(kRussianHeads, kRussianComplements, " ");
  std::vector<std::string> kazakh_words = Words(kKazakhWords, "", "");
  std::vector<std::string> kazakh_phrases = Strings(Split(kKazakhPhrases, '|'));

 private:
  static std::vector<std::string> Strings(const std::vector<std::string_view>& views) {
    return {views.begin(), views.end()};
  }
  // The words, and every surname root with every ending.
  static std::vector<std::string> Words(std::string_view words, std::string_view roots,
                                        std::string_view endings) {
    std::vector<std::string> out = Strings(Split(words));
    for (std::string& name : Cross(roots, endings, "")) out.push_back(std::move(name));
    return out;
  }
};

// ---------------------------------------------------------------------------------------
// UTF-8 helpers for the generator (first letters only: Latin, Cyrillic and Kazakh).

std::size_t CodePointLength(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

std::size_t CodePointCount(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string DropLastCodePoints(std::string_view s, std::size_t n) {
  std::size_t end = s.size();
  while (n-- > 0 && end > 0) {
    --end;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  }
  return std::string(s.substr(0, end));
}

// Changes the case of the first letter (ASCII and two-byte Cyrillic only; others unchanged).
std::string WithFirstCase(std::string_view s, bool upper) {
  std::string out(s);
  if (out.empty()) return out;
  auto lead = static_cast<unsigned char>(out[0]);
  if (lead < 0x80) {
    if (upper && lead >= 'a' && lead <= 'z') out[0] = static_cast<char>(lead - 32);
    if (!upper && lead >= 'A' && lead <= 'Z') out[0] = static_cast<char>(lead + 32);
    return out;
  }
  if (CodePointLength(lead) != 2 || out.size() < 2) return out;
  char32_t cp = ((lead & 0x1F) << 6) | (static_cast<unsigned char>(out[1]) & 0x3F);
  char32_t to = cp;
  if (upper) {
    if (cp >= 0x430 && cp <= 0x44F) to = cp - 0x20;
    if (cp >= 0x450 && cp <= 0x45F) to = cp - 0x50;
    if (cp >= 0x460 && cp <= 0x4FF && cp % 2 == 1) to = cp - 1;
  } else {
    if (cp >= 0x410 && cp <= 0x42F) to = cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40F) to = cp + 0x50;
    if (cp >= 0x460 && cp <= 0x4FF && cp % 2 == 0) to = cp + 1;
  }
  out[0] = static_cast<char>(0xC0 | (to >> 6));
  out[1] = static_cast<char>(0x80 | (to & 0x3F));
  return out;
}

bool IsCyrillic(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// ---------------------------------------------------------------------------------------
// Rules.

enum class Lang { kEnglish, kRussian, kKazakh };

// A rule, with texts that fire each trigger (headlines get one of them) and the text of its
// `none` entry, if any.
struct GeneratedRule {
  RuleSpec spec;
  std::vector<std::string> samples;
  std::string none_sample;
};

// A word, sometimes cut short and given a trailing '*'; the sample is a longer form of it.
void WordKeyword(Random& rng, std::string_view word, bool cyrillic, std::string& keyword,
                 std::string& sample) {
  keyword = std::string(word);
  sample = std::string(word);
  if (!rng.Percent(25) || CodePointCount(word) < 5) return;
  if (rng.Percent(50) && CodePointCount(word) >= 7) {
    keyword = DropLastCodePoints(word, 1 + rng.Below(2)) + "*";
  } else {
    static constexpr std::string_view kEnglishEndings[] = {"s", "i", "'s", "ese"};
    static constexpr std::string_view kRussianEndings[] = {"а", "е", "у", "ом", "ской", "ы"};
    keyword += "*";
    sample += cyrillic ? rng.Pick(kRussianEndings) : rng.Pick(kEnglishEndings);
  }
}

// Separators a two-word phrase may meet in a headline.
std::string SampleOfPhrase(Random& rng, std::string_view phrase) {
  std::string sample(phrase);
  std::size_t r = rng.Below(100);
  if (r >= 85) {
    std::string_view separator = r < 95 ? "\u00a0" : "-";
    for (std::size_t at; (at = sample.find(' ')) != std::string::npos;) {
      sample.replace(at, 1, separator);
    }
  }
  return sample;
}

void AddKeyword(Random& rng, const Vocabulary& vocab, Lang lang, GeneratedRule& rule) {
  const auto& words = lang == Lang::kEnglish   ? vocab.english_words
                      : lang == Lang::kRussian ? vocab.russian_words
                                               : vocab.kazakh_words;
  const auto& phrases = lang == Lang::kEnglish   ? vocab.english_phrases
                        : lang == Lang::kRussian ? vocab.russian_phrases
                                                 : vocab.kazakh_phrases;
  std::string keyword, sample;
  if (rng.Percent(45)) {
    keyword = rng.Pick(phrases);
    sample = SampleOfPhrase(rng, keyword);
  } else {
    WordKeyword(rng, rng.Pick(words), lang != Lang::kEnglish, keyword, sample);
  }
  // People write keywords in lower case as often as not; headlines keep the proper case.
  if (rng.Percent(40)) keyword = WithFirstCase(keyword, false);
  rule.spec.keywords.push_back({.text = keyword});
  rule.samples.push_back(std::move(sample));
}

std::vector<GeneratedRule> MakeRules(std::size_t count, const Vocabulary& vocab) {
  Random rng(kSeed);
  std::vector<GeneratedRule> out;
  for (std::size_t i = 0; i < count; ++i) {
    GeneratedRule rule;
    char name[32];
    std::snprintf(name, sizeof name, "rule-%04zu", i);
    rule.spec.name = name;
    rule.spec.file = "bench.yaml";
    rule.spec.line = static_cast<int>(i * 8 + 1);
    std::size_t r = rng.Below(100);
    Lang lang = r < 45 ? Lang::kEnglish : r < 88 ? Lang::kRussian : Lang::kKazakh;
    bool pattern = rng.Percent(12);
    std::size_t keywords = pattern ? 1 + rng.Below(5) : 2 + rng.Below(5);
    for (std::size_t k = 0; k < keywords; ++k) {
      // Kazakh rules name Russian spellings too, as Kazakh newsrooms write both.
      Lang keyword_lang = lang == Lang::kKazakh && rng.Percent(40) ? Lang::kRussian : lang;
      AddKeyword(rng, vocab, keyword_lang, rule);
    }
    if (pattern) {
      const Pattern& p = rng.Pick(kPatterns);
      rule.spec.patterns.push_back({.text = std::string(p.regex)});
      rule.samples.emplace_back(p.sample);
    }
    if (rng.Percent(5)) {
      const Pattern& none = rng.Pick(kNoneEntries);
      rule.spec.none.push_back({.text = std::string(none.regex)});
      rule.none_sample = std::string(none.sample);
    }
    out.push_back(std::move(rule));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Headlines.

struct Headlines {
  std::string bytes;                     // every headline, back to back
  std::vector<std::string_view> titles;  // into bytes
  std::size_t injected = 0;              // headlines given some rule's trigger text
};

// Filler words up to 60-110 bytes, with the punctuation headlines carry; `insert` (may be
// empty) at a random word position, `also` (may be empty) after it.
std::string Headline(Random& rng, const Vocabulary& vocab, bool russian, std::string_view insert,
                     std::string_view also) {
  const auto& filler = russian ? vocab.russian_filler : vocab.english_filler;
  std::size_t target = 60 + rng.Below(51);
  std::size_t extra = insert.size() + also.size();
  std::vector<std::string> words;
  std::size_t size = 0;
  while (size + extra < target) {
    std::string word(rng.Pick(filler));
    std::size_t r = rng.Below(100);
    if (r < 2) word = std::to_string(rng.Below(2030));
    size += word.size() + 1;
    words.push_back(std::move(word));
  }
  if (!insert.empty()) {
    std::size_t at = rng.Below(words.size() + 1);
    words.insert(words.begin() + static_cast<std::ptrdiff_t>(at), std::string(insert));
    if (!also.empty()) {
      std::size_t also_at = std::min(words.size(), at + 1 + rng.Below(2));
      words.insert(words.begin() + static_cast<std::ptrdiff_t>(also_at), std::string(also));
    }
  }
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (!out.empty()) out += ' ';
    std::size_t r = rng.Below(100);
    if (r < 3) {
      out += russian ? "«" : "“";
      out += words[i];
      out += russian ? "»" : "”";
    } else if (r < 6 && i + 1 < words.size()) {
      out += words[i];
      out += r < 5 ? ":" : ",";
    } else {
      out += words[i];
    }
  }
  return WithFirstCase(out, true);
}

Headlines MakeHeadlines(std::size_t count, std::span<const GeneratedRule> rules,
                        const Vocabulary& vocab, std::uint64_t seed) {
  Random rng(seed);
  Headlines h;
  h.bytes.reserve(count * 96);
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  spans.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::string line;
    if (rng.Percent(kInjectPercent)) {
      const GeneratedRule& rule = rules[rng.Below(rules.size())];
      const std::string& sample = rule.samples[rng.Below(rule.samples.size())];
      // A third of the headlines for a rule with `none` also carry that: it must not fire.
      std::string_view also =
          !rule.none_sample.empty() && rng.Percent(33) ? rule.none_sample : std::string_view();
      line = Headline(rng, vocab, IsCyrillic(sample), sample, also);
      ++h.injected;
    } else {
      line = Headline(rng, vocab, rng.Percent(45), {}, {});
    }
    spans.emplace_back(h.bytes.size(), line.size());
    h.bytes += line;
  }
  h.titles.reserve(count);
  for (auto [at, size] : spans) h.titles.push_back(std::string_view(h.bytes).substr(at, size));
  return h;
}

// ---------------------------------------------------------------------------------------
// The naive matcher: one RE2 per rule, every rule tried on every headline.

struct NaiveRule {
  std::unique_ptr<RE2> triggers;
  std::unique_ptr<RE2> none;  // null when the rule has none
};

// A phrase as someone would write it by hand: words quoted, spaces and hyphens as a run of
// whitespace, hyphens or no-break spaces, a trailing '*' dropped (an unanchored search
// matches the prefix anyway). No word boundaries: RE2's \b is ASCII-only, and with it no
// Cyrillic keyword would ever match.
std::string NaivePhrase(std::string_view phrase) {
  std::string out;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out += R"([\s\-\x{00A0}]+)";
    if (word.back() == '*') word.pop_back();
    out += RE2::QuoteMeta(word);
    word.clear();
  };
  for (char c : phrase) {
    if (c == ' ' || c == '-') {
      flush();
    } else {
      word += c;
    }
  }
  flush();
  return out;
}

std::unique_ptr<RE2> NaiveRegex(const std::vector<RuleEntry>& phrases,
                                const std::vector<RuleEntry>& patterns) {
  std::string alternation;
  for (const RuleEntry& e : phrases) {
    if (!alternation.empty()) alternation += '|';
    alternation += NaivePhrase(e.text);
  }
  for (const RuleEntry& e : patterns) {
    if (!alternation.empty()) alternation += '|';
    alternation += "(?:" + e.text + ")";
  }
  if (alternation.empty()) return nullptr;
  RE2::Options options;
  options.set_case_sensitive(false);
  auto re = std::make_unique<RE2>(alternation, options);
  if (!re->ok()) {
    std::fprintf(stderr, "rules_bench: naive regex failed: %s\n", re->error().c_str());
    std::exit(1);
  }
  return re;
}

std::size_t NaiveCount(const std::vector<NaiveRule>& naive, std::string_view title) {
  std::size_t matches = 0;
  for (const NaiveRule& rule : naive) {
    if (RE2::PartialMatch(title, *rule.triggers) &&
        !(rule.none && RE2::PartialMatch(title, *rule.none))) {
      ++matches;
    }
  }
  return matches;
}

// ---------------------------------------------------------------------------------------
// One configuration: N rules, compiled both ways, and its headlines.

struct Config {
  std::size_t rule_count = 0;
  std::size_t keywords = 0, patterns = 0, nones = 0;
  std::shared_ptr<const rules::RuleSet> rule_set;
  std::vector<NaiveRule> naive;
  double build_ms = 0;  // rules::Build, wall time
  // The untimed warm-up pass (--full): headlines/s of a fresh RuleSet, whose DFA states are
  // still being built, as after every start and reload. 0 when there was none.
  double cold_per_second = 0;
  Headlines headlines;
  std::size_t naive_headlines = 0;  // the naive loop runs over this many (it is slow)

  // Results, written by the benchmarks.
  std::size_t matches = 0;               // RuleSet: (headline, rule) matches, all headlines
  std::size_t headlines_matched = 0;     // RuleSet: headlines with at least one match
  std::size_t matches_on_naive_set = 0;  // RuleSet, over the naive loop's headlines
  std::size_t naive_matches = 0;         // naive loop, over its headlines
};

rules::FieldTexts TitleOnly(std::string_view title) {
  rules::FieldTexts texts{};
  texts[static_cast<std::size_t>(newsmon::core::Field::kTitle)] = title;
  return texts;
}

void BM_RuleSet(benchmark::State& state, Config* config) {
  const rules::RuleSet& set = *config->rule_set;
  const auto& titles = config->headlines.titles;
  std::size_t matches = 0, matched = 0, on_naive_headlines = 0;
  for (auto _ : state) {
    matches = matched = 0;
    for (std::size_t i = 0; i < titles.size(); ++i) {
      std::size_t m = set.Match(TitleOnly(titles[i]), kSource).size();
      matches += m;
      matched += m > 0;
      if (i + 1 == config->naive_headlines) on_naive_headlines = matches;
    }
  }
  config->matches = matches;
  config->headlines_matched = matched;
  config->matches_on_naive_set = on_naive_headlines;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * titles.size()));
  state.counters["matches"] = static_cast<double>(matches);
  state.counters["dfa_fallbacks"] = static_cast<double>(set.dfa_fallbacks());
}

void BM_Naive(benchmark::State& state, Config* config) {
  const auto titles = std::span(config->headlines.titles).first(config->naive_headlines);
  std::size_t matches = 0;
  for (auto _ : state) {
    matches = 0;
    for (std::string_view title : titles) matches += NaiveCount(config->naive, title);
  }
  config->naive_matches = matches;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * titles.size()));
  state.counters["matches"] = static_cast<double>(matches);
}

std::string Thousands(double value) {
  auto n = static_cast<long long>(value + 0.5);
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

std::string RatesNote(const std::optional<Rate>& rate) {
  if (!rate) return "no figures";
  if (!rate->median) return "rates from single runs";
  return "rates are medians of " + std::to_string(rate->repetitions) + " repetitions (CPU time)";
}

std::string RuleSetName(std::size_t n) { return "ruleset/" + std::to_string(n); }
std::string NaiveName(std::size_t n) { return "naive_re2/" + std::to_string(n); }

}  // namespace

int main(int argc, char** argv) {
  bool full = false;
  std::size_t headlines_flag = 0;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--full") {
      full = true;
    } else if (arg == "--smoke") {
      full = false;
    } else if (arg.starts_with("--headlines=")) {
      headlines_flag = std::strtoull(argv[i] + std::strlen("--headlines="), nullptr, 10);
    } else {
      args.push_back(argv[i]);
    }
  }
  if (!newsmon::bench::InitializeBenchmark(args, full)) return 1;

  const std::size_t headline_count = headlines_flag > 0 ? headlines_flag : full ? 1'000'000 : 1'000;
  // The naive loop costs a PartialMatch per rule per headline: it gets a fixed budget of
  // calls per pass (a rate per headline does not depend on how many it runs over).
  const std::size_t naive_budget = full ? 10'000'000 : 50'000;
  // Headlines matched once, untimed, before the runs (none in the smoke run, to stay short:
  // its figures are a fresh RuleSet's).
  const std::size_t warm_up = full ? 100'000 : 0;
  std::printf("rules_bench (%s): generating rules and headlines (seed %llu)\n",
              full ? "full" : "smoke", static_cast<unsigned long long>(kSeed));

  const Vocabulary vocab;
  const std::vector<GeneratedRule> all_rules =
      MakeRules(kRuleCounts[std::size(kRuleCounts) - 1], vocab);
  std::vector<std::unique_ptr<Config>> configs;
  for (std::size_t n : kRuleCounts) {
    auto config = std::make_unique<Config>();
    config->rule_count = n;
    std::span<const GeneratedRule> generated = std::span(all_rules).first(n);
    std::vector<RuleSpec> specs;
    for (const GeneratedRule& rule : generated) {
      specs.push_back(rule.spec);
      config->keywords += rule.spec.keywords.size();
      config->patterns += rule.spec.patterns.size();
      config->nones += rule.spec.none.size();
      config->naive.push_back({.triggers = NaiveRegex(rule.spec.keywords, rule.spec.patterns),
                               .none = NaiveRegex(rule.spec.none, {})});
    }
    auto start = std::chrono::steady_clock::now();
    rules::BuildResult built = rules::Build(std::move(specs));
    config->build_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!built.ok()) {
      std::fprintf(stderr, "rules_bench: the generated rules do not build:\n");
      for (const auto& d : built.diagnostics) {
        std::fprintf(stderr, "  %s: %s\n", d.key.c_str(), d.message.c_str());
      }
      return 1;
    }
    config->rule_set = std::move(built.rules);
    config->headlines = MakeHeadlines(headline_count, generated, vocab, kSeed + n);
    config->naive_headlines = std::min(headline_count, std::max<std::size_t>(1, naive_budget / n));
    if (warm_up > 0) {
      // Every Set builds its DFA lazily, a state at a time: the first headlines cost far more
      // than the rest. Timed runs measure a RuleSet in service, so this pass comes first.
      std::size_t count = std::min(warm_up, config->headlines.titles.size());
      double start = ThreadCpuSeconds();
      for (std::string_view title : std::span(config->headlines.titles).first(count)) {
        benchmark::DoNotOptimize(config->rule_set->Match(TitleOnly(title), kSource));
      }
      config->cold_per_second = static_cast<double>(count) / (ThreadCpuSeconds() - start);
    }

    const Headlines& h = config->headlines;
    std::printf(
        "%4zu rules: %zu keywords, %zu patterns, %zu none; rules::Build %.1f ms; %zu headlines"
        " (%.1f MB, mean %.0f bytes), %zu (%.1f%%) with a rule's text\n",
        n, config->keywords, config->patterns, config->nones, config->build_ms, h.titles.size(),
        static_cast<double>(h.bytes.size()) / 1e6,
        static_cast<double>(h.bytes.size()) / static_cast<double>(h.titles.size()), h.injected,
        100.0 * static_cast<double>(h.injected) / static_cast<double>(h.titles.size()));
    configs.push_back(std::move(config));
  }
  std::printf("\n");

  for (auto& config : configs) {
    benchmark::RegisterBenchmark(RuleSetName(config->rule_count).c_str(), BM_RuleSet, config.get())
        ->Unit(benchmark::kMillisecond);
  }
  for (auto& config : configs) {
    benchmark::RegisterBenchmark(NaiveName(config->rule_count).c_str(), BM_Naive, config.get())
        ->Unit(benchmark::kMillisecond);
  }
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::printf("\nrules_bench summary (%s run): %s headlines per configuration, title only; %s\n",
              full ? "full" : "smoke", Thousands(static_cast<double>(headline_count)).c_str(),
              RatesNote(reporter.Find(RuleSetName(kRuleCounts[0]))).c_str());
  std::printf("  %5s | %14s | %9s | %9s | %13s | %10s | %11s | %14s | %9s\n", "rules",
              "RuleSet hl/s", "matches", "headlines", "dfa_fallbacks", "Build ms", "fresh hl/s",
              "naive RE2 hl/s", "Set/naive");
  std::optional<Rate> first_rate, last_rate, hundred_rate;
  std::uint64_t fallbacks = 0;
  for (const auto& config : configs) {
    auto set_rate = reporter.Find(RuleSetName(config->rule_count));
    auto naive_rate = reporter.Find(NaiveName(config->rule_count));
    fallbacks += config->rule_set->dfa_fallbacks();
    if (config->rule_count == kRuleCounts[0]) first_rate = set_rate;
    if (config->rule_count == 100) hundred_rate = set_rate;
    if (config->rule_count == kRuleCounts[std::size(kRuleCounts) - 1]) last_rate = set_rate;
    char speedup[32] = "-";
    if (set_rate && naive_rate && naive_rate->items_per_second > 0) {
      std::snprintf(speedup, sizeof speedup, "%.1fx",
                    set_rate->items_per_second / naive_rate->items_per_second);
    }
    std::printf("  %5zu | %14s | %9s | %9s | %13llu | %10.1f | %11s | %14s | %9s\n",
                config->rule_count, set_rate ? Thousands(set_rate->items_per_second).c_str() : "-",
                Thousands(static_cast<double>(config->matches)).c_str(),
                Thousands(static_cast<double>(config->headlines_matched)).c_str(),
                static_cast<unsigned long long>(config->rule_set->dfa_fallbacks()),
                config->build_ms,
                config->cold_per_second > 0 ? Thousands(config->cold_per_second).c_str() : "-",
                naive_rate ? Thousands(naive_rate->items_per_second).c_str() : "-", speedup);
  }
  std::printf(
      "  (matches: (headline, rule) pairs; headlines: headlines with at least one match;\n"
      "   dfa_fallbacks: RuleSet::dfa_fallbacks() after every run; Build: rules::Build, wall;\n"
      "   Set/naive: RuleSet::Match against the one-RE2-per-rule loop, headlines/s)\n");
  if (warm_up > 0) {
    std::printf(
        "  (fresh: the untimed warm-up, the first %s headlines against a RuleSet just built)\n",
        Thousands(static_cast<double>(std::min(warm_up, headline_count))).c_str());
  }
  std::printf(
      "  matches on the naive loop's headlines (naive / RuleSet; the naive regexes have no\n"
      "  word boundaries, so they also fire inside longer words):\n");
  for (const auto& config : configs) {
    std::printf("    %4zu rules, first %s headlines: %s / %s\n", config->rule_count,
                Thousands(static_cast<double>(config->naive_headlines)).c_str(),
                Thousands(static_cast<double>(config->naive_matches)).c_str(),
                Thousands(static_cast<double>(config->matches_on_naive_set)).c_str());
  }
  // The smoke run matches few headlines against fresh RuleSets: its rates judge nothing.
  auto verdict = [&](bool met) {
    return !full ? "not judged in a smoke run" : met ? "met" : "MISSED";
  };
  if (hundred_rate) {
    std::printf("  100 rules: %s headlines/s  (target >= 1,000,000: %s)\n",
                Thousands(hundred_rate->items_per_second).c_str(),
                verdict(hundred_rate->items_per_second >= 1e6));
  }
  if (first_rate && last_rate && first_rate->items_per_second > 0) {
    double ratio = last_rate->items_per_second / first_rate->items_per_second;
    std::printf("  1000-rule rate / 10-rule rate: %.4f = 1/%.2f  (target >= 1/3: %s)\n", ratio,
                1 / ratio, verdict(ratio >= 1.0 / 3));
  }

  std::printf("  dfa_fallbacks over all runs: %llu  (must be 0: %s)\n",
              static_cast<unsigned long long>(fallbacks), fallbacks == 0 ? "ok" : "NOT 0");
  return 0;
}
