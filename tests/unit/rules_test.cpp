#include "daemon/rules/rules.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "daemon/core/diagnostic.h"
#include "daemon/core/feed.h"
#include "daemon/core/rule.h"

namespace newsmon::rules {
namespace {

using core::Field;
using Strings = std::vector<std::string>;

std::vector<core::RuleEntry> Entries(const Strings& texts) {
  std::vector<core::RuleEntry> entries;
  for (const auto& text : texts) entries.push_back({.text = text});
  return entries;
}

core::RuleSpec Rule(std::string name, const Strings& keywords, const Strings& patterns = {}) {
  core::RuleSpec spec;
  spec.name = std::move(name);
  spec.keywords = Entries(keywords);
  spec.patterns = Entries(patterns);
  return spec;
}

std::shared_ptr<const RuleSet> MustBuild(std::vector<core::RuleSpec> specs,
                                         const BuildOptions& options = {}) {
  BuildResult result = Build(std::move(specs), options);
  for (const auto& d : result.diagnostics) ADD_FAILURE() << core::Format(d);
  if (!result.ok()) ADD_FAILURE() << "Build failed";
  return result.rules;
}

FieldTexts Texts(std::string_view title, std::string_view summary = {}, std::string_view link = {},
                 std::string_view author = {}, std::string_view categories = {}) {
  FieldTexts texts{};
  texts[static_cast<std::size_t>(Field::kTitle)] = title;
  texts[static_cast<std::size_t>(Field::kSummary)] = summary;
  texts[static_cast<std::size_t>(Field::kLink)] = link;
  texts[static_cast<std::size_t>(Field::kAuthor)] = author;
  texts[static_cast<std::size_t>(Field::kCategories)] = categories;
  return texts;
}

// "rule@field[begin,end)": compact and exact, so a whole result compares in one line.
std::string Show(const core::Match& m) {
  return m.rule + "@" + std::string(core::NameOf<Field>(core::kFieldNames, m.field)) + "[" +
         std::to_string(m.begin) + "," + std::to_string(m.end) + ")";
}

Strings Shown(const std::vector<core::Match>& matches) {
  Strings out;
  for (const auto& m : matches) out.push_back(Show(m));
  return out;
}

Strings MatchAll(const RuleSet& rules, const FieldTexts& texts, std::string_view source = {}) {
  return Shown(rules.Match(texts, source));
}

// What a rule "r" made of `spec` matches in a title alone.
Strings InTitle(core::RuleSpec spec, std::string_view title) {
  auto rules = MustBuild({std::move(spec)});
  if (!rules) return {"build failed"};
  return MatchAll(*rules, Texts(title));
}

Strings KeywordInTitle(const std::string& keyword, std::string_view title) {
  return InTitle(Rule("r", {keyword}), title);
}

std::string Span(std::size_t begin, std::size_t end) {
  return "r@title[" + std::to_string(begin) + "," + std::to_string(end) + ")";
}

Strings Errors(const BuildResult& result) {
  Strings out;
  for (const auto& d : result.diagnostics) out.push_back(core::Format(d));
  return out;
}

// The one diagnostic a rule with the single keyword `phrase` gets.
Strings PhraseErrors(const std::string& phrase) {
  core::RuleSpec spec = Rule("r", {phrase});
  spec.file = "k.yaml";
  spec.keywords[0].line = 4;
  BuildResult result = Build({spec});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.rules, nullptr);
  return Errors(result);
}

// --- Keywords -------------------------------------------------------------------------

TEST(RulesKeywordTest, SingleWordGivesItsByteSpan) {
  EXPECT_EQ(KeywordInTitle("Astana", "Summit in Astana"), Strings{Span(10, 16)});
  EXPECT_EQ(KeywordInTitle("Astana", "Summit in Almaty"), Strings{});
}

TEST(RulesKeywordTest, MultiWordPhraseSpansAllItsWords) {
  EXPECT_EQ(KeywordInTitle("Belt and Road", "Belt and Road Initiative"), Strings{Span(0, 13)});
  EXPECT_EQ(KeywordInTitle("Belt and Road", "The road and belt"), Strings{});
  EXPECT_EQ(KeywordInTitle("Belt and Road", "Belt and more Road"), Strings{});
}

TEST(RulesKeywordTest, EnglishIgnoresCase) {
  EXPECT_EQ(KeywordInTitle("belt and road", "BELT AND ROAD"), Strings{Span(0, 13)});
  EXPECT_EQ(KeywordInTitle("KAZAKHSTAN", "kazakhstan"), Strings{Span(0, 10)});
  EXPECT_EQ(KeywordInTitle("KaZaKhStAn", "kAzAkHsTaN"), Strings{Span(0, 10)});
}

TEST(RulesKeywordTest, RussianIgnoresCase) {
  EXPECT_EQ(KeywordInTitle("азия", "ЦЕНТРАЛЬНАЯ АЗИЯ"), Strings{Span(23, 31)});
  EXPECT_EQ(KeywordInTitle("ЦЕНТРАЛЬНАЯ АЗИЯ", "центральная азия"), Strings{Span(0, 31)});
  EXPECT_EQ(KeywordInTitle("ёлка", "ЁЛКА"), Strings{Span(0, 8)});
}

TEST(RulesKeywordTest, KazakhLettersFoldToTheirOwnCase) {
  // Each pair covers one or more of Қ/қ Ө/ө Ү/ү Ұ/ұ Ә/ә Ғ/ғ Ң/ң І/і.
  const std::pair<std::string, std::string> kPairs[] = {
      {"қазақстан", "ҚАЗАҚСТАН"}, {"өңір", "ӨҢІР"},   {"үкімет", "ҮКІМЕТ"}, {"ұлттық", "ҰЛТТЫҚ"},
      {"әкім", "ӘКІМ"},           {"ғылым", "ҒЫЛЫМ"}, {"іңкәр", "ІҢКӘР"},   {"ұғым", "ҰҒЫМ"},
  };
  for (const auto& [lower, upper] : kPairs) {
    SCOPED_TRACE(lower);
    EXPECT_EQ(KeywordInTitle(lower, upper), Strings{Span(0, upper.size())});
    EXPECT_EQ(KeywordInTitle(upper, lower), Strings{Span(0, lower.size())});
  }
}

TEST(RulesKeywordTest, KazakhLettersAreNotTheirRussianOrLatinLookAlikes) {
  EXPECT_EQ(KeywordInTitle("Қазақстан", "Казакстан"), Strings{});  // Қ is not К
  EXPECT_EQ(KeywordInTitle("Үкімет", "Укімет"), Strings{});        // Ү is not У
  EXPECT_EQ(KeywordInTitle("Ұлт", "Улт"), Strings{});              // Ұ is not У
  EXPECT_EQ(KeywordInTitle("Өңір", "Оңір"), Strings{});            // Ө is not О
  EXPECT_EQ(KeywordInTitle("ғылым", "гылым"), Strings{});          // Ғ is not Г
  EXPECT_EQ(KeywordInTitle("іс", "Is"), Strings{});                // Cyrillic І is not Latin I
}

TEST(RulesKeywordTest, FoldingIsSimpleNotFull) {
  EXPECT_EQ(KeywordInTitle("straße", "STRAẞE"), Strings{Span(0, 8)});  // ẞ folds to ß
  EXPECT_EQ(KeywordInTitle("straße", "STRASSE"), Strings{});           // ß -> ss is full folding
}

// --- Word boundaries --------------------------------------------------------------------

TEST(RulesBoundaryTest, WordInsideALongerWordDoesNotMatch) {
  EXPECT_EQ(KeywordInTitle("Азия", "Евразия"), Strings{});
  EXPECT_EQ(KeywordInTitle("Азия", "Евразия и Азия"), Strings{Span(18, 26)});
  EXPECT_EQ(KeywordInTitle("Asia", "Eurasia"), Strings{});
  EXPECT_EQ(KeywordInTitle("Asia", "Asian markets"), Strings{});
  EXPECT_EQ(KeywordInTitle("Asia", "Eurasia and Asia"), Strings{Span(12, 16)});
  EXPECT_EQ(KeywordInTitle("BRI", "BRICS"), Strings{});
  EXPECT_EQ(KeywordInTitle("BRI", "BRICS and BRI"), Strings{Span(10, 13)});
}

TEST(RulesBoundaryTest, StartAndEndOfTextAreBoundaries) {
  EXPECT_EQ(KeywordInTitle("BRI", "BRI"), Strings{Span(0, 3)});
  EXPECT_EQ(KeywordInTitle("BRI", "BRI projects"), Strings{Span(0, 3)});
  EXPECT_EQ(KeywordInTitle("BRI", "projects of the BRI"), Strings{Span(16, 19)});
  EXPECT_EQ(KeywordInTitle("Азия", "Азия"), Strings{Span(0, 8)});
}

TEST(RulesBoundaryTest, PunctuationAndQuotesAreBoundaries) {
  EXPECT_EQ(KeywordInTitle("BRI", "(BRI)"), Strings{Span(1, 4)});
  EXPECT_EQ(KeywordInTitle("BRI", "BRI, again."), Strings{Span(0, 3)});
  EXPECT_EQ(KeywordInTitle("BRI", "about BRI."), Strings{Span(6, 9)});
  EXPECT_EQ(KeywordInTitle("BRI", "«BRI»"), Strings{Span(2, 5)});
  EXPECT_EQ(KeywordInTitle("BRI", "“BRI”"), Strings{Span(3, 6)});
  EXPECT_EQ(KeywordInTitle("Азия", "«Азия»"), Strings{Span(2, 10)});
}

TEST(RulesBoundaryTest, DigitsUnderscoresLettersAndMarksAreWordCharacters) {
  EXPECT_EQ(KeywordInTitle("BRI", "BRI2"), Strings{});
  EXPECT_EQ(KeywordInTitle("BRI", "2BRI"), Strings{});
  EXPECT_EQ(KeywordInTitle("BRI", "BRI 2"), Strings{Span(0, 3)});
  EXPECT_EQ(KeywordInTitle("BRI", "BRI_x"), Strings{});
  EXPECT_EQ(KeywordInTitle("BRI", "x_BRI"), Strings{});
  EXPECT_EQ(KeywordInTitle("BRI", "BRIя"), Strings{});         // a Cyrillic letter
  EXPECT_EQ(KeywordInTitle("Азия", "Азия\u0301"), Strings{});  // a combining accent
  EXPECT_EQ(KeywordInTitle("Азия", "Азия\u0661"), Strings{});  // an Arabic-Indic digit
  EXPECT_EQ(KeywordInTitle("Азия", "Азия\u00A02024"), Strings{Span(0, 8)});  // NBSP is not
}

TEST(RulesBoundaryTest, AnInvalidByteIsNoBoundary) {
  EXPECT_EQ(KeywordInTitle("BRI", "BRI\xFF"), Strings{});
  EXPECT_EQ(KeywordInTitle("BRI",
                           "\xFF"
                           "BRI"),
            Strings{});
  EXPECT_EQ(KeywordInTitle("BRI",
                           "\xD0"
                           "BRI"),
            Strings{});  // a truncated sequence
  EXPECT_EQ(KeywordInTitle("BRI", "\xFF BRI \xFF"), Strings{Span(2, 5)});
}

TEST(RulesBoundaryTest, RetriesAfterACandidateInsideAWord) {
  // The first raw hit of each is inside a word; the match is the later, bounded one.
  EXPECT_EQ(KeywordInTitle("asia", "Eurasia Asia"), Strings{Span(8, 12)});
  EXPECT_EQ(KeywordInTitle("азия", "Евразия, Азия"), Strings{Span(16, 24)});
}

// --- Separators -------------------------------------------------------------------------

TEST(RulesSeparatorTest, AnyRunOfSpacesTabsAndUnicodeSpacesSeparatesWords) {
  EXPECT_EQ(KeywordInTitle("Belt and Road", "Belt   and\tRoad"), Strings{Span(0, 15)});
  EXPECT_EQ(KeywordInTitle("Belt and Road", "Belt\u00A0and\u202FRoad"), Strings{Span(0, 16)});
  EXPECT_EQ(KeywordInTitle("Belt and Road", "Belt \t\u00A0 and  Road"), Strings{Span(0, 18)});
}

TEST(RulesSeparatorTest, HyphensAndDashesSeparateWords) {
  EXPECT_EQ(KeywordInTitle("Belt and Road", "Belt-and-Road"), Strings{Span(0, 13)});
  EXPECT_EQ(KeywordInTitle("Belt and Road", "Belt–and—Road"), Strings{Span(0, 17)});
  EXPECT_EQ(KeywordInTitle("Belt and Road", "Belt — and — Road"), Strings{Span(0, 21)});
}

TEST(RulesSeparatorTest, EveryUnicodeWhitespaceSeparatesWords) {
  // The White_Space code points, plus the dashes and the minus sign.
  const std::string_view kSeparators[] = {
      "\t",     "\n",     "\v",     "\f",     "\r",     " ",      "\u0085", "\u00A0", "\u1680",
      "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007", "\u2008",
      "\u2009", "\u200A", "\u2028", "\u2029", "\u202F", "\u205F", "\u3000", "-",      "\u2010",
      "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212"};
  auto rules = MustBuild({Rule("r", {"Belt Road"})});
  ASSERT_NE(rules, nullptr);
  for (std::string_view sep : kSeparators) {
    std::string text = "Belt" + std::string(sep) + "Road";
    SCOPED_TRACE(::testing::PrintToString(text));
    EXPECT_EQ(MatchAll(*rules, Texts(text)), Strings{Span(0, text.size())});
  }
}

TEST(RulesSeparatorTest, PhraseSeparatorsAreInterchangeable) {
  EXPECT_EQ(KeywordInTitle("Belt-and-Road", "belt and road"), Strings{Span(0, 13)});
  EXPECT_EQ(KeywordInTitle("Belt  and\tRoad", "Belt and Road"), Strings{Span(0, 13)});
  EXPECT_EQ(KeywordInTitle("Belt\u00A0and–Road", "Belt-and Road"), Strings{Span(0, 13)});
}

TEST(RulesSeparatorTest, WordsMustBeSeparatedByAtLeastOneSeparator) {
  EXPECT_EQ(KeywordInTitle("Belt and Road", "BeltandRoad"), Strings{});
  EXPECT_EQ(KeywordInTitle("Belt and Road", "Belt andRoad"), Strings{});
  EXPECT_EQ(KeywordInTitle("Belt and Road", "Belt_and_Road"), Strings{});
  EXPECT_EQ(KeywordInTitle("Belt and Road", "Belt.and.Road"), Strings{});
}

// --- Quotes -----------------------------------------------------------------------------

TEST(RulesQuoteTest, StraightAndCurlyApostrophesAreOne) {
  EXPECT_EQ(KeywordInTitle("Xi'an", "Flights to Xi’an resume"), Strings{Span(11, 18)});
  EXPECT_EQ(KeywordInTitle("Xi'an", "Xi‘an"), Strings{Span(0, 7)});
  EXPECT_EQ(KeywordInTitle("Xi'an", "Xi`an"), Strings{Span(0, 5)});
  EXPECT_EQ(KeywordInTitle("Xi'an", "Xiʼan"), Strings{Span(0, 6)});
  EXPECT_EQ(KeywordInTitle("Xi’an", "Flights to Xi'an resume"), Strings{Span(11, 16)});
  EXPECT_EQ(KeywordInTitle("Xi'an", "Xian"), Strings{});
  EXPECT_EQ(KeywordInTitle("Xi'an", "Xi an"), Strings{});
}

TEST(RulesQuoteTest, EveryListedApostropheMatchesEveryOther) {
  const std::string_view kApostrophes[] = {"'", "‘", "’", "‚", "‛", "′", "ʼ", "`", "´"};
  for (std::string_view written : kApostrophes) {
    for (std::string_view seen : kApostrophes) {
      std::string text = "Xi" + std::string(seen) + "an";
      SCOPED_TRACE(std::string(written) + " vs " + text);
      EXPECT_EQ(KeywordInTitle("Xi" + std::string(written) + "an", text),
                Strings{Span(0, text.size())});
    }
  }
}

TEST(RulesQuoteTest, EveryListedDoubleQuoteMatchesEveryOther) {
  const std::string_view kQuotes[] = {"\"", "“", "”", "„", "‟", "″", "«", "»"};
  for (std::string_view written : kQuotes) {
    for (std::string_view seen : kQuotes) {
      std::string text = std::string(seen) + "Otan" + std::string(seen);
      SCOPED_TRACE(std::string(written) + " vs " + text);
      EXPECT_EQ(KeywordInTitle(std::string(written) + "Otan" + std::string(written), text),
                Strings{Span(0, text.size())});
    }
  }
}

TEST(RulesQuoteTest, StraightCurlyAndAngleDoubleQuotesAreOne) {
  EXPECT_EQ(KeywordInTitle("\"Nur Otan\"", "Party «Nur Otan» won"), Strings{Span(6, 18)});
  EXPECT_EQ(KeywordInTitle("\"Nur Otan\"", "Party “Nur Otan” won"), Strings{Span(6, 20)});
  EXPECT_EQ(KeywordInTitle("\"Nur Otan\"", "Party \"Nur Otan\" won"), Strings{Span(6, 16)});
  EXPECT_EQ(KeywordInTitle("«Nur Otan»", "Party \"Nur Otan\" won"), Strings{Span(6, 16)});
  EXPECT_EQ(KeywordInTitle("“Nur Otan”", "Party «Nur Otan» won"), Strings{Span(6, 18)});
  EXPECT_EQ(KeywordInTitle("\"Nur Otan\"", "Party Nur Otan won"), Strings{});
}

// --- '*' --------------------------------------------------------------------------------

TEST(RulesStarTest, TrailingStarMatchesAnyEndingAndSpansTheWholeWord) {
  EXPECT_EQ(KeywordInTitle("Казахстан*", "Казахстан"), Strings{Span(0, 18)});
  EXPECT_EQ(KeywordInTitle("Казахстан*", "Казахстана"), Strings{Span(0, 20)});
  EXPECT_EQ(KeywordInTitle("Казахстан*", "Казахстанский"), Strings{Span(0, 26)});
  EXPECT_EQ(KeywordInTitle("Казахстан*", "в Казахстанском регионе"), Strings{Span(3, 29)});
  EXPECT_EQ(KeywordInTitle("Kazakh*", "Kazakhstan's oil"), Strings{Span(0, 10)});
  EXPECT_EQ(KeywordInTitle("коридор* ", "в коридоре"), Strings{Span(3, 19)});
}

TEST(RulesStarTest, TrailingStarStillNeedsABoundaryBeforeAndTheWholeStem) {
  EXPECT_EQ(KeywordInTitle("Казахстан*", "Казах"), Strings{});
  EXPECT_EQ(KeywordInTitle("Казахстан*", "Великоказахстанский"), Strings{});
  EXPECT_EQ(KeywordInTitle("Казахстан*", "Великоказахстанский Казахстана"), Strings{Span(39, 59)});
}

TEST(RulesStarTest, StarInsideAPhraseEndsItsWord) {
  EXPECT_EQ(KeywordInTitle("Экономическ* пояс*", "Экономический пояс Шёлкового пути"),
            Strings{Span(0, 35)});
  EXPECT_EQ(KeywordInTitle("Экономическ* пояс*", "Строительство экономического пояса"),
            Strings{Span(27, 66)});
  EXPECT_EQ(KeywordInTitle("Экономическ* пояс*", "Экономический союз"), Strings{});
  EXPECT_EQ(KeywordInTitle("Экономическ* пояс", "экономического поясами"), Strings{});
}

// --- Phrase errors ----------------------------------------------------------------------

TEST(RulesPhraseErrorTest, StarNotAtTheEndOfAWord) {
  EXPECT_EQ(PhraseErrors("Каз*ахстан"),
            Strings{"k.yaml:4: error: rule 'r': keywords[0]: phrase 'Каз*ахстан': '*' may only "
                    "end a word (as in \"Казахстан*\")"});
  EXPECT_EQ(PhraseErrors("Kazakh**"),
            Strings{"k.yaml:4: error: rule 'r': keywords[0]: phrase 'Kazakh**': '*' may only end "
                    "a word (as in \"Казахстан*\")"});
}

TEST(RulesPhraseErrorTest, StarWithoutAWord) {
  EXPECT_EQ(PhraseErrors("*"), Strings{"k.yaml:4: error: rule 'r': keywords[0]: phrase '*': '*' "
                                       "must follow a word (as in \"Казахстан*\")"});
  EXPECT_EQ(PhraseErrors("*stan"), Strings{"k.yaml:4: error: rule 'r': keywords[0]: phrase "
                                           "'*stan': '*' must follow a word (as in "
                                           "\"Казахстан*\")"});
  EXPECT_EQ(PhraseErrors("Belt *"), Strings{"k.yaml:4: error: rule 'r': keywords[0]: phrase "
                                            "'Belt *': '*' must follow a word (as in "
                                            "\"Казахстан*\")"});
}

TEST(RulesPhraseErrorTest, EmptyPhrase) {
  EXPECT_EQ(PhraseErrors(""),
            Strings{"k.yaml:4: error: rule 'r': keywords[0]: phrase '': empty phrase"});
  EXPECT_EQ(PhraseErrors(" - \t"),
            Strings{"k.yaml:4: error: rule 'r': keywords[0]: phrase ' - \t': empty phrase"});
}

TEST(RulesPhraseErrorTest, ControlCharactersAndInvalidUtf8) {
  EXPECT_EQ(PhraseErrors("Belt\x01Road"),
            Strings{"k.yaml:4: error: rule 'r': keywords[0]: phrase "
                    "'Belt\x01Road': a control character is not allowed"});
  EXPECT_EQ(PhraseErrors("Belt\x7f"), Strings{"k.yaml:4: error: rule 'r': keywords[0]: phrase "
                                              "'Belt\x7f': a control character is not allowed"});
  EXPECT_EQ(PhraseErrors("Belt\xff"), Strings{"k.yaml:4: error: rule 'r': keywords[0]: phrase "
                                              "'Belt\xff': not valid UTF-8"});
}

// --- Patterns ---------------------------------------------------------------------------

TEST(RulesPatternTest, PatternsIgnoreCaseByDefault) {
  EXPECT_EQ(InTitle(Rule("r", {}, {"road\\s+\\d+"}), "Route: ROAD 66 east"), Strings{Span(7, 14)});
}

TEST(RulesPatternTest, CaseSensitivePatternsAndReEntriesRespectCase) {
  core::RuleSpec spec = Rule("r", {}, {"road\\s+\\d+"});
  spec.case_sensitive = true;
  EXPECT_EQ(InTitle(spec, "Route: ROAD 66 east"), Strings{});
  EXPECT_EQ(InTitle(spec, "Route: road 66 east"), Strings{Span(7, 14)});
  spec.none = Entries({"re:EAST"});
  EXPECT_EQ(InTitle(spec, "Route: road 66 east"), Strings{Span(7, 14)});
  EXPECT_EQ(InTitle(spec, "Route: road 66 EAST"), Strings{});
}

TEST(RulesPatternTest, CaseSensitiveDoesNotApplyToPhrases) {
  core::RuleSpec spec = Rule("r", {"pipeline"});
  spec.case_sensitive = true;
  spec.all = Entries({"gas"});
  EXPECT_EQ(InTitle(spec, "GAS PIPELINE"), Strings{Span(4, 12)});
}

TEST(RulesPatternTest, PatternsWithTheirOwnGroupsSpanTheWholeMatch) {
  EXPECT_EQ(InTitle(Rule("r", {}, {"(belt|road)\\s+(\\d+)(?:km)?"}), "New belt 40km"),
            Strings{Span(4, 13)});
  EXPECT_EQ(InTitle(Rule("r", {}, {"(?P<year>20\\d\\d)-(?P<month>\\d\\d)"}), "In 2024-05 then"),
            Strings{Span(3, 10)});
}

TEST(RulesPatternTest, PatternsHaveNoImplicitWordBoundaries) {
  EXPECT_EQ(InTitle(Rule("r", {}, {"asia"}), "Eurasia"), Strings{Span(3, 7)});
  EXPECT_EQ(InTitle(Rule("r", {}, {"\\basia\\b"}), "Eurasia"), Strings{});
}

TEST(RulesPatternTest, PatternsFoldCyrillicAndKazakhCase) {
  EXPECT_EQ(InTitle(Rule("r", {}, {"қазақстан\\pL*"}), "ҚАЗАҚСТАННЫҢ"), Strings{Span(0, 24)});
  // \w is ASCII-only in RE2: it stops at the first Kazakh letter.
  EXPECT_EQ(InTitle(Rule("r", {}, {"қазақстан\\w*"}), "ҚАЗАҚСТАННЫҢ"), Strings{Span(0, 18)});
  core::RuleSpec exact = Rule("r", {}, {"Қазақстан"});
  exact.case_sensitive = true;
  EXPECT_EQ(InTitle(exact, "ҚАЗАҚСТАН"), Strings{});
}

TEST(RulesPatternTest, QuotedLiteralRunningToTheEndStillBuilds) {
  // "\Q" without "\E" quotes the rest of the pattern: valid RE2 on its own.
  core::RuleSpec spec = Rule("r", {}, {"\\Qa.b"});
  EXPECT_EQ(InTitle(spec, "x a.b"), Strings{Span(2, 5)});
  EXPECT_EQ(InTitle(spec, "x axb"), Strings{});
  spec.case_sensitive = true;
  EXPECT_EQ(InTitle(spec, "x a.b"), Strings{Span(2, 5)});
}

TEST(RulesPatternTest, TopLevelAlternationsAndAnchorsStayInsideTheirRule) {
  auto rules = MustBuild({Rule("fuel", {}, {"oil|gas"}), Rule("breaking", {}, {"^Breaking"}),
                          Rule("other", {"pipeline"})});
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(MatchAll(*rules, Texts("Breaking: gas")),
            (Strings{"fuel@title[10,13)", "breaking@title[0,8)"}));
  EXPECT_EQ(MatchAll(*rules, Texts("Not Breaking: pipeline")), Strings{"other@title[14,22)"});
}

// --- all / none -------------------------------------------------------------------------

class RulesConditionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::RuleSpec spec = Rule("pipeline", {"pipeline"});
    spec.all = Entries({"gas", "re:\\b20\\d\\d\\b"});
    spec.none = Entries({"oil", "re:sanction"});
    rules_ = MustBuild({spec});
    ASSERT_NE(rules_, nullptr);
  }
  Strings Run(std::string_view title, std::string_view summary) {
    return MatchAll(*rules_, Texts(title, summary));
  }
  std::shared_ptr<const RuleSet> rules_;
};

TEST_F(RulesConditionTest, AllEntriesMayMatchAnyOfTheRulesFields) {
  EXPECT_EQ(Run("New pipeline opens", "Gas flows from 2025"), Strings{"pipeline@title[4,12)"});
  EXPECT_EQ(Run("Gas pipeline for 2025", ""), Strings{"pipeline@title[4,12)"});
  EXPECT_EQ(Run("2025", "Gas pipeline"), Strings{"pipeline@summary[4,12)"});
}

TEST_F(RulesConditionTest, EveryAllEntryMustMatch) {
  EXPECT_EQ(Run("New pipeline opens", "Gas flows soon"), Strings{});
  EXPECT_EQ(Run("New pipeline opens", "Flows from 2025"), Strings{});
  EXPECT_EQ(Run("New pipeline opens", "Gasoline from 2025"), Strings{});  // phrase boundary
}

TEST_F(RulesConditionTest, AnyNoneEntryVetoes) {
  EXPECT_EQ(Run("New pipeline opens", "Gas and oil from 2025"), Strings{});
  EXPECT_EQ(Run("Oil pipeline", "Gas from 2025"), Strings{});
  EXPECT_EQ(Run("New pipeline opens", "Gas from 2025 despite SANCTIONS"), Strings{});
  EXPECT_EQ(Run("New pipeline opens", "Gas from 2025, no boiling"),
            Strings{"pipeline@title[4,12)"});
}

TEST(RulesConditionFieldsTest, ConditionsOnlyLookAtTheRulesOwnFields) {
  core::RuleSpec spec = Rule("r", {"pipeline"});
  spec.fields = {Field::kTitle};
  spec.all = Entries({"gas"});
  spec.none = Entries({"re:oil"});
  auto rules = MustBuild({spec});
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(MatchAll(*rules, Texts("pipeline", "gas")), Strings{});
  EXPECT_EQ(MatchAll(*rules, Texts("gas pipeline", "oil")), Strings{"r@title[4,12)"});
  EXPECT_EQ(MatchAll(*rules, Texts("gas pipeline", "", "https://oil.example/")),
            Strings{"r@title[4,12)"});
}

TEST(RulesConditionFieldsTest, ARuleWithOnlyConditionsNeverFires) {
  core::RuleSpec spec = Rule("r", {});
  spec.all = Entries({"gas"});
  auto rules = MustBuild({spec});
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(MatchAll(*rules, Texts("gas", "gas")), Strings{});
}

// --- Fields -----------------------------------------------------------------------------

TEST(RulesFieldTest, DefaultFieldsAreTitleAndSummary) {
  auto rules = MustBuild({Rule("r", {"kazakhstan"})});
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(
      MatchAll(*rules, Texts("x", "", "https://x.kz/kazakhstan/1", "Kazakhstan", "Kazakhstan")),
      Strings{});
  EXPECT_EQ(MatchAll(*rules, Texts("x", "in Kazakhstan")), Strings{"r@summary[3,13)"});
}

TEST(RulesFieldTest, ARuleReadingOnlyTheLink) {
  core::RuleSpec spec = Rule("r", {"kazakhstan"});
  spec.fields = {Field::kLink};
  auto rules = MustBuild({spec});
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(MatchAll(*rules, Texts("Kazakhstan", "Kazakhstan", "https://tengrinews.kz/world/1")),
            Strings{});
  EXPECT_EQ(MatchAll(*rules, Texts("x", "", "https://tengrinews.kz/kazakhstan/123")),
            Strings{"r@link[22,32)"});
  EXPECT_EQ(MatchAll(*rules, Texts("x", "", "https://tengrinews.kz/kazakhstan_news/1")),
            Strings{});  // '_' is a word character
}

TEST(RulesFieldTest, CategoriesAreJoinedAndSpansPointIntoTheJoinedText) {
  core::RuleSpec spec = Rule("r", {"Central Asia"});
  spec.fields = {Field::kCategories};
  auto rules = MustBuild({spec});
  ASSERT_NE(rules, nullptr);
  core::Item item{.title = "Central Asia summit", .categories = {"Politics", "Central Asia"}};
  EXPECT_EQ(Shown(rules->Match(item, "")), Strings{"r@categories[10,22)"});
  item.categories = {"Central", "Asia"};  // "Central, Asia": a comma is no separator
  EXPECT_EQ(Shown(rules->Match(item, "")), Strings{});
}

TEST(RulesFieldTest, AuthorField) {
  core::RuleSpec spec = Rule("r", {"Ivanov"});
  spec.fields = {Field::kAuthor};
  auto rules = MustBuild({spec});
  ASSERT_NE(rules, nullptr);
  core::Item item{.title = "Ivanov speaks", .author = "Pyotr Ivanov"};
  EXPECT_EQ(Shown(rules->Match(item, "")), Strings{"r@author[6,12)"});
  item.author.reset();
  EXPECT_EQ(Shown(rules->Match(item, "")), Strings{});
}

TEST(RulesFieldTest, TextsOfGivesEachFieldAndJoinsCategories) {
  core::Item item{.title = "T",
                  .link = "https://l.example/",
                  .summary = "S",
                  .author = "A",
                  .categories = {"one", "two", "three"}};
  std::string scratch = "stale";
  FieldTexts texts = TextsOf(item, scratch);
  EXPECT_EQ(texts[static_cast<std::size_t>(Field::kTitle)], "T");
  EXPECT_EQ(texts[static_cast<std::size_t>(Field::kSummary)], "S");
  EXPECT_EQ(texts[static_cast<std::size_t>(Field::kLink)], "https://l.example/");
  EXPECT_EQ(texts[static_cast<std::size_t>(Field::kAuthor)], "A");
  EXPECT_EQ(texts[static_cast<std::size_t>(Field::kCategories)], "one, two, three");

  core::Item bare{.title = "only a title"};
  texts = TextsOf(bare, scratch);
  EXPECT_EQ(texts[static_cast<std::size_t>(Field::kTitle)], "only a title");
  for (Field f : {Field::kSummary, Field::kLink, Field::kAuthor, Field::kCategories}) {
    EXPECT_TRUE(texts[static_cast<std::size_t>(f)].empty());
  }
}

// --- Which field and span ---------------------------------------------------------------

TEST(RulesSpanTest, FirstFieldInFieldOrderWinsWhateverTheRuleListsFirst) {
  core::RuleSpec spec = Rule("r", {"Astana"});
  spec.fields = {Field::kCategories, Field::kLink, Field::kSummary, Field::kTitle};
  auto rules = MustBuild({spec});
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(MatchAll(*rules, Texts("In Astana", "Astana", "https://x/astana", "", "Astana")),
            Strings{"r@title[3,9)"});
  EXPECT_EQ(MatchAll(*rules, Texts("x", "See Astana", "https://x/astana", "", "Astana")),
            Strings{"r@summary[4,10)"});
  EXPECT_EQ(MatchAll(*rules, Texts("x", "", "https://x/astana", "", "Astana")),
            Strings{"r@link[10,16)"});
  EXPECT_EQ(MatchAll(*rules, Texts("x", "", "", "", "News, Astana")),
            Strings{"r@categories[6,12)"});
}

TEST(RulesSpanTest, LeftmostTriggerInTheFieldGivesTheSpan) {
  EXPECT_EQ(InTitle(Rule("r", {"Road", "Belt"}), "Belt and Road"), Strings{Span(0, 4)});
  EXPECT_EQ(InTitle(Rule("r", {"Road"}, {"B.lt"}), "Belt and Road"), Strings{Span(0, 4)});
  EXPECT_EQ(InTitle(Rule("r", {"Belt"}, {"R..d"}), "Road and Belt"), Strings{Span(0, 4)});
  EXPECT_EQ(InTitle(Rule("r", {"Road"}), "Road, Road, Road"), Strings{Span(0, 4)});
}

TEST(RulesSpanTest, ACandidateFieldFailingTheExactCheckGivesWayToTheNext) {
  auto rules = MustBuild({Rule("r", {"BRI"})});
  ASSERT_NE(rules, nullptr);
  // "BRIя" passes the Sets' ASCII-only boundary but not the Unicode one.
  EXPECT_EQ(MatchAll(*rules, Texts("BRIя", "the BRI")), Strings{"r@summary[4,7)"});
  EXPECT_EQ(MatchAll(*rules, Texts("BRIя", "BRIя")), Strings{});
}

TEST(RulesSpanTest, AnEarlierFieldWinsOverAnEarlierPosition) {
  auto rules = MustBuild({Rule("r", {"Belt", "Road"})});
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(MatchAll(*rules, Texts("the long Road", "Belt")), Strings{"r@title[9,13)"});
}

// --- Sources and rule order -------------------------------------------------------------

TEST(RulesSourceTest, SourceLimitedRulesFireOnlyForTheirSources) {
  core::RuleSpec local = Rule("local", {"Astana"});
  local.sources = {"tengri", "kaztag"};
  auto rules = MustBuild({local, Rule("global", {"Astana"})});
  ASSERT_NE(rules, nullptr);
  FieldTexts texts = Texts("Astana");
  EXPECT_EQ(MatchAll(*rules, texts, "tengri"), (Strings{"local@title[0,6)", "global@title[0,6)"}));
  EXPECT_EQ(MatchAll(*rules, texts, "kaztag"), (Strings{"local@title[0,6)", "global@title[0,6)"}));
  EXPECT_EQ(MatchAll(*rules, texts, "bbc"), Strings{"global@title[0,6)"});
  EXPECT_EQ(MatchAll(*rules, texts, "Tengri"), Strings{"global@title[0,6)"});
  EXPECT_EQ(MatchAll(*rules, texts, ""), Strings{"global@title[0,6)"});
}

TEST(RulesOrderTest, RulesFireInRuleOrderOncePerRule) {
  auto rules = MustBuild({Rule("a", {"road"}), Rule("b", {"belt"}), Rule("c", {"silk"}),
                          Rule("d", {}, {"[0-9]+"}), Rule("e", {"belt", "road"})});
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(MatchAll(*rules, Texts("7 belts? No: belt 9, road 8, belt", "road")),
            (Strings{"a@title[21,25)", "b@title[13,17)", "d@title[0,1)", "e@title[13,17)"}));
  EXPECT_EQ(MatchAll(*rules, Texts("", "Silk")), Strings{"c@summary[0,4)"});
}

// --- Build errors -----------------------------------------------------------------------

TEST(RulesBuildErrorTest, EveryBadEntryIsReportedWithFileLineAndRule) {
  core::RuleSpec spec = Rule("silk", {"Belt and Road", "Каз*ахстан"}, {"(unclosed", "\\pL{1000}"});
  spec.file = "rules/silk.yaml";
  spec.line = 3;
  spec.keywords[0].line = 5;
  spec.keywords[1].line = 6;
  spec.patterns[0].line = 8;
  spec.patterns[1].line = 9;
  spec.all = {{.text = "re:[z-a]", .line = 11}, {.text = "*", .line = 12}};
  spec.none = {{.text = "", .line = 14}, {.text = "re:a**", .line = 15}};
  BuildResult result = Build({spec});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.rules, nullptr);
  EXPECT_EQ(Errors(result),
            (Strings{
                "rules/silk.yaml:6: error: rule 'silk': keywords[1]: phrase 'Каз*ахстан': '*' "
                "may only end a word (as in \"Казахстан*\")",
                "rules/silk.yaml:8: error: rule 'silk': patterns[0]: invalid regex '(unclosed': "
                "missing ): (unclosed",
                "rules/silk.yaml:9: error: rule 'silk': patterns[1]: '\\pL{1000}' is too large "
                "for RE2's memory budget (8 MiB): split it or use keywords with '*'",
                "rules/silk.yaml:11: error: rule 'silk': all[0]: invalid regex 're:[z-a]': "
                "invalid character class range: z-a",
                "rules/silk.yaml:12: error: rule 'silk': all[1]: phrase '*': '*' must follow a "
                "word (as in \"Казахстан*\")",
                "rules/silk.yaml:14: error: rule 'silk': none[0]: phrase '': empty phrase",
                "rules/silk.yaml:15: error: rule 'silk': none[1]: invalid regex 're:a**': bad "
                "repetition operator: **",
            }));
}

TEST(RulesBuildErrorTest, ErrorsOfSeveralRulesAreReportedAtOnce) {
  core::RuleSpec a = Rule("a", {"*"});
  a.file = "one.yaml";
  a.keywords[0].line = 4;
  core::RuleSpec good = Rule("good", {"fine"}, {"fine+"});
  good.file = "one.yaml";
  core::RuleSpec b = Rule("b", {}, {"x{2,1}"});
  b.file = "two.yaml";
  b.line = 7;  // the entry has no line of its own: the rule's line stands in
  BuildResult result = Build({a, good, b});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.rules, nullptr);
  EXPECT_EQ(Errors(result),
            (Strings{"one.yaml:4: error: rule 'a': keywords[0]: phrase '*': '*' must follow a word "
                     "(as in \"Казахстан*\")",
                     "two.yaml:7: error: rule 'b': patterns[0]: invalid regex 'x{2,1}': invalid "
                     "repetition size: {2,1}"}));
}

TEST(RulesBuildErrorTest, PatternTooLargeForRe2IsItsOwnError) {
  // Nested counted repetitions beyond 1000 are a parse error in RE2, not "too large"; a
  // Unicode class repeated hundreds of times parses and then exceeds the program budget.
  core::RuleSpec spec =
      Rule("huge", {}, {"[\\p{L}\\p{N}]{500}x", "((((((a{100}){100}){100}){100}){100}){100})"});
  spec.file = "big.yaml";
  spec.patterns[0].line = 2;
  spec.patterns[1].line = 3;
  BuildResult result = Build({spec});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(Errors(result),
            (Strings{"big.yaml:2: error: rule 'huge': patterns[0]: '[\\p{L}\\p{N}]{500}x' is too "
                     "large for RE2's memory budget (8 MiB): split it or use keywords with '*'",
                     "big.yaml:3: error: rule 'huge': patterns[1]: invalid regex "
                     "'((((((a{100}){100}){100}){100}){100}){100})': invalid repetition size: "
                     "{100}"}));
}

TEST(RulesBuildErrorTest, RegexesMatchingTheEmptyStringAreErrors) {
  core::RuleSpec spec = Rule("empty", {"fine"}, {"x*", "(a|)"});
  spec.file = "e.yaml";
  spec.line = 1;
  spec.patterns[0].line = 3;
  spec.patterns[1].line = 4;
  spec.all = {{.text = "re:^", .line = 6}};
  spec.none = {{.text = "re:\\b", .line = 8}};  // \b needs a word character: fine
  BuildResult result = Build({spec});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(Errors(result),
            (Strings{"e.yaml:3: error: rule 'empty': patterns[0]: 'x*' matches the empty string, "
                     "so it would match every item",
                     "e.yaml:4: error: rule 'empty': patterns[1]: '(a|)' matches the empty string, "
                     "so it would match every item",
                     "e.yaml:6: error: rule 'empty': all[0]: 're:^' matches the empty string, so "
                     "it would match every item"}));
}

TEST(RulesBuildErrorTest, AGoodBuildHasNoDiagnostics) {
  BuildResult result = Build({Rule("a", {"Belt and Road", "Казахстан*"}, {"(?i)silk\\s+road"})});
  EXPECT_TRUE(result.ok());
  EXPECT_NE(result.rules, nullptr);
  EXPECT_EQ(Errors(result), Strings{});
}

// --- Set memory budget ------------------------------------------------------------------

// Forty rules reading title and summary, and a long, varied text in which some of them fire.
std::vector<core::RuleSpec> ManyRules() {
  std::vector<core::RuleSpec> specs;
  for (int i = 0; i < 40; ++i) {
    std::string n = std::to_string(i);
    specs.push_back(Rule("r" + n, {"слово" + n + "*", "word" + n + " and term" + n},
                         {"[a-z]{3}" + n + "[^ ]{0,5}z"}));
  }
  return specs;
}

std::string LongVariedText() {
  std::string text;
  std::uint32_t x = 12345;
  const std::string_view kPieces[] = {"слово", "word", "term", "and", "abc", "z", "Ә", " ", "-"};
  for (int i = 0; i < 4000; ++i) {
    x = x * 1103515245u + 12345u;
    text += kPieces[(x >> 16) % std::size(kPieces)];
    text += std::to_string((x >> 8) % 53);
    if (x % 3 == 0) text += ' ';
  }
  return text;
}

TEST(RulesBudgetTest, TightestWorkingSetBudgetGivesTheSameMatches) {
  std::vector<core::RuleSpec> specs = ManyRules();
  // The smallest budget (to 1 KiB) with which the Sets still compile.
  std::int64_t too_small = 1 << 10;
  std::int64_t enough = 64 << 20;
  ASSERT_TRUE(Build(specs, {.set_max_mem = enough}).ok());
  while (enough - too_small > (1 << 10)) {
    std::int64_t mid = too_small + (enough - too_small) / 2;
    (Build(specs, {.set_max_mem = mid}).ok() ? enough : too_small) = mid;
  }
  // Just below that the Set is too large; title and summary, read by the same rules, share
  // it, so one error names both.
  BuildResult failed = Build(specs, {.set_max_mem = too_small});
  EXPECT_FALSE(failed.ok());
  ASSERT_EQ(failed.diagnostics.size(), 1u);
  EXPECT_EQ(failed.diagnostics[0].key, "rules");
  EXPECT_TRUE(failed.diagnostics[0].message.starts_with(
      "the 40 rules reading title, summary are too large together for RE2's memory budget"))
      << failed.diagnostics[0].message;

  // Even this tight, the Set's DFA does not run out of memory: RE2 (2022-06) checks at
  // compile time that its budget holds many states, and a many-match DFA that fills its
  // cache resets it rather than fail. The failure path is driven through
  // BuildOptions::simulate_dfa_failure below.
  auto normal = MustBuild(specs);
  auto tight = MustBuild(specs, {.set_max_mem = enough});
  ASSERT_NE(normal, nullptr);
  ASSERT_NE(tight, nullptr);
  const std::string text = LongVariedText();
  Strings expected = MatchAll(*normal, Texts(text));
  EXPECT_GT(expected.size(), 10u);
  EXPECT_EQ(MatchAll(*tight, Texts(text)), expected);
  // Twice: the second pass runs on a DFA cache the first one filled.
  EXPECT_EQ(MatchAll(*tight, Texts(text)), expected);
  EXPECT_EQ(normal->dfa_fallbacks(), 0u);
}

TEST(RulesBudgetTest, RuleByRulePathGivesTheSameMatchesAsTheSets) {
  std::vector<core::RuleSpec> specs = ManyRules();
  core::RuleSpec scoped = Rule("scoped", {"Астана", "Belt and Road"}, {"silk\\s+road"});
  scoped.sources = {"tengri"};
  scoped.fields = {Field::kSummary, Field::kCategories};
  scoped.all = Entries({"re:\\d"});
  specs.push_back(scoped);
  auto sets = MustBuild(specs);
  auto one_by_one = MustBuild(specs, {.use_sets = false});
  ASSERT_NE(sets, nullptr);
  ASSERT_NE(one_by_one, nullptr);
  const std::string text = LongVariedText();
  const FieldTexts kInputs[] = {
      Texts(text),
      Texts("", text),
      Texts("word3 and term3", "Silk Road 1", "", "", "x, Belt-and-Road"),
      Texts("word3 and term4", "Астана 2", "", "", ""),
      Texts("nothing at all"),
  };
  std::size_t total = 0;
  for (const auto& texts : kInputs) {
    for (std::string_view source : {"", "tengri"}) {
      Strings expected = MatchAll(*sets, texts, source);
      total += expected.size();
      EXPECT_EQ(MatchAll(*one_by_one, texts, source), expected);
    }
  }
  EXPECT_GT(total, 40u);
  EXPECT_EQ(MatchAll(*one_by_one, Texts("Silk Road 1", "Silk Road 1"), "tengri"),
            Strings{"scoped@summary[0,9)"});
  EXPECT_EQ(sets->dfa_fallbacks(), 0u);
  EXPECT_EQ(one_by_one->dfa_fallbacks(), 0u);
}

TEST(RulesBudgetTest, DfaFailureFallsBackToExactMatchingAndIsCounted) {
  std::vector<core::RuleSpec> specs = ManyRules();
  auto sets = MustBuild(specs);
  auto failing = MustBuild(specs, {.simulate_dfa_failure = true});
  ASSERT_NE(sets, nullptr);
  ASSERT_NE(failing, nullptr);
  const std::string text = LongVariedText();
  Strings expected = MatchAll(*sets, Texts(text, text));
  EXPECT_GT(expected.size(), 10u);
  EXPECT_EQ(MatchAll(*failing, Texts(text, text)), expected);
  // One event per field searched: title and summary here, title alone next.
  EXPECT_EQ(failing->dfa_fallbacks(), 2u);
  EXPECT_EQ(MatchAll(*failing, Texts("nothing at all")), Strings{});
  EXPECT_EQ(failing->dfa_fallbacks(), 3u);
  EXPECT_EQ(sets->dfa_fallbacks(), 0u);
}

// --- Examples ---------------------------------------------------------------------------

TEST(RulesExamplesTest, FailingMatchAndNoMatchExamplesAreReportedWithTheirLines) {
  core::RuleSpec silk = Rule("silk", {"Belt and Road"});
  silk.file = "rules/silk.yaml";
  silk.line = 2;
  silk.examples_match = {{.text = "China's Belt and Road", .line = 10},
                         {.text = "no trigger here", .line = 11}};
  silk.examples_no_match = {{.text = "Eurasia news", .line = 13},
                            {.text = "BRI: Belt-and-Road", .line = 14},
                            {.text = "Belt and Road again"}};  // no line: the rule's
  auto rules = MustBuild({silk});
  ASSERT_NE(rules, nullptr);
  std::vector<ExampleFailure> failures = rules->CheckExamples();
  ASSERT_EQ(failures.size(), 3u);

  EXPECT_EQ(failures[0].rule, "silk");
  EXPECT_EQ(failures[0].file, "rules/silk.yaml");
  EXPECT_EQ(failures[0].line, 11);
  EXPECT_EQ(failures[0].text, "no trigger here");
  EXPECT_TRUE(failures[0].expected_match);
  EXPECT_EQ(Shown(failures[0].matches), Strings{});

  EXPECT_EQ(failures[1].rule, "silk");
  EXPECT_EQ(failures[1].file, "rules/silk.yaml");
  EXPECT_EQ(failures[1].line, 14);
  EXPECT_EQ(failures[1].text, "BRI: Belt-and-Road");
  EXPECT_FALSE(failures[1].expected_match);
  EXPECT_EQ(Shown(failures[1].matches), Strings{"silk@title[5,18)"});

  EXPECT_EQ(failures[2].line, 2);
  EXPECT_EQ(failures[2].text, "Belt and Road again");
  EXPECT_FALSE(failures[2].expected_match);
  EXPECT_EQ(Shown(failures[2].matches), Strings{"silk@title[0,13)"});
}

TEST(RulesExamplesTest, ExamplesRunOnTheRulesFieldsSourceAndConditions) {
  core::RuleSpec scoped = Rule("scoped", {"kazakhstan"});
  scoped.fields = {Field::kLink};
  scoped.sources = {"tengri"};
  scoped.examples_match = {{.text = "https://x.kz/kazakhstan/1", .line = 3}};
  scoped.examples_no_match = {{.text = "https://x.kz/kazakhstan_news/1", .line = 4}};
  core::RuleSpec gas = Rule("gas", {"pipeline"});
  gas.all = Entries({"gas"});
  gas.none = Entries({"oil"});
  gas.examples_match = {{.text = "gas pipeline", .line = 8}};
  gas.examples_no_match = {{.text = "pipeline", .line = 9}, {.text = "oil and gas pipeline"}};
  // Another rule firing on its no_match example is not this rule's failure.
  core::RuleSpec own = Rule("own", {"road"});
  own.examples_no_match = {{.text = "gas pipeline", .line = 12}};
  auto rules = MustBuild({scoped, gas, own});
  ASSERT_NE(rules, nullptr);
  EXPECT_TRUE(rules->CheckExamples().empty());
}

TEST(RulesExamplesTest, NoExamplesNoFailures) {
  auto rules = MustBuild({Rule("a", {"x"}), Rule("b", {}, {"y"})});
  ASSERT_NE(rules, nullptr);
  EXPECT_TRUE(rules->CheckExamples().empty());
}

// --- The RuleSet itself -----------------------------------------------------------------

TEST(RuleSetTest, FindGivesTheSpecByName) {
  core::RuleSpec silk = Rule("silk", {"Belt and Road"});
  silk.description = "China's Belt and Road";
  silk.severity = core::RuleSeverity::kCritical;
  auto rules = MustBuild({Rule("first", {"a"}), silk});
  ASSERT_NE(rules, nullptr);
  const core::RuleSpec* found = rules->Find("silk");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found, &rules->specs()[1]);
  EXPECT_EQ(found->name, "silk");
  EXPECT_EQ(found->description, "China's Belt and Road");
  EXPECT_EQ(found->severity, core::RuleSeverity::kCritical);
  ASSERT_EQ(found->keywords.size(), 1u);
  EXPECT_EQ(found->keywords[0].text, "Belt and Road");
  EXPECT_EQ(rules->Find("first"), &rules->specs()[0]);
  EXPECT_EQ(rules->Find("Silk"), nullptr);
  EXPECT_EQ(rules->Find(""), nullptr);
  ASSERT_EQ(rules->specs().size(), 2u);
  EXPECT_EQ(rules->specs()[0].name, "first");
}

TEST(RuleSetTest, EmptyRuleListBuildsAndMatchesNothing) {
  BuildResult result = Build({});
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result.diagnostics.empty());
  EXPECT_TRUE(result.rules->specs().empty());
  EXPECT_EQ(MatchAll(*result.rules, Texts("anything", "at all", "https://x/", "me", "c")),
            Strings{});
  EXPECT_TRUE(result.rules->CheckExamples().empty());
  EXPECT_EQ(result.rules->Find("anything"), nullptr);
  EXPECT_EQ(result.rules->dfa_fallbacks(), 0u);
}

TEST(RuleSetTest, EmptyTextsMatchNothing) {
  core::RuleSpec spec = Rule("a", {"x"}, {"\\W+$"});
  spec.fields = {Field::kTitle, Field::kSummary, Field::kLink, Field::kAuthor, Field::kCategories};
  spec.none = Entries({"re:y"});
  auto rules = MustBuild({spec});
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(MatchAll(*rules, Texts("")), Strings{});
  EXPECT_EQ(MatchAll(*rules, Texts("", "", "", "", ".")), Strings{"a@categories[0,1)"});
}

TEST(RuleSetTest, ManyThreadsAtOnceGetTheSameResults) {
  core::RuleSpec scoped = Rule("scoped", {"Astana"});
  scoped.sources = {"tengri"};
  core::RuleSpec conditional = Rule("conditional", {"pipeline"});
  conditional.all = Entries({"gas"});
  auto rules = MustBuild({Rule("silk", {"Belt and Road", "Экономическ* пояс*"}),
                          Rule("kz", {"Казахстан*", "Қазақстан"}), scoped, conditional,
                          Rule("digits", {}, {"\\d{4}"})});
  ASSERT_NE(rules, nullptr);
  const std::vector<std::pair<std::string, std::string>> kInputs = {
      {"Belt-and-Road in Казахстане 2024", "tengri"},
      {"Astana gas pipeline", "tengri"},
      {"Astana gas pipeline", "bbc"},
      {"экономического пояса Қазақстан", ""},
      {"nothing here", ""},
      {std::string(300, 'x') + " Казахстанский 1999", "tengri"},
  };
  auto run_all = [&] {
    std::vector<Strings> out;
    for (const auto& [text, source] : kInputs) out.push_back(MatchAll(*rules, Texts(text), source));
    return out;
  };
  const std::vector<Strings> expected = run_all();
  ASSERT_EQ(expected[0], (Strings{"silk@title[0,13)", "kz@title[17,37)", "digits@title[38,42)"}));

  constexpr int kThreads = 4;
  constexpr int kRounds = 300;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        if (run_all() != expected) ++mismatches[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(kThreads, 0));
}

}  // namespace
}  // namespace newsmon::rules
