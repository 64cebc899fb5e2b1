#include "daemon/parse/date.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <utility>
#include <vector>

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

namespace newsmon::parse {
namespace {

// ---------------------------------------------------------------------------------------
// Characters. Everything here works on bytes of (hopefully) UTF-8 and never assumes the
// text is valid: a broken sequence just fails to match a name.

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Length of the whitespace character starting at `pos`, 0 when there is none. Pages put
// U+00A0 (and, from JavaScript's Intl, U+202F or U+2009) between a day, its month and a time.
std::size_t SpaceLength(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return 0;
  if (auto first = static_cast<unsigned char>(text[pos]); first > ' ' && first < 0x80) return 0;
  auto byte = [&](std::size_t i) {
    return pos + i < text.size() ? static_cast<unsigned char>(text[pos + i]) : 0u;
  };
  unsigned char c = byte(0);
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') return 1;
  if (c == 0xC2 && byte(1) == 0xA0) return 2;
  if (c == 0xE2 && byte(1) == 0x80 && (byte(2) == 0x89 || byte(2) == 0xAF)) return 3;
  return 0;
}

// A byte of a word: an ASCII letter or any byte of a non-ASCII character other than the
// spaces above (Cyrillic letters are all two-byte sequences).
bool IsWordByte(std::string_view text, std::size_t pos) {
  auto c = static_cast<unsigned char>(text[pos]);
  if (c < 0x80) return IsAsciiLetter(static_cast<char>(c));
  return (c != 0xC2 && c != 0xE2) || SpaceLength(text, pos) == 0;
}

std::string_view TrimSpace(std::string_view text) {
  while (std::size_t n = SpaceLength(text, 0)) text.remove_prefix(n);
  for (;;) {
    std::size_t n = 0;
    for (std::size_t len : {1, 2, 3}) {
      if (text.size() >= len && SpaceLength(text, text.size() - len) == len) n = len;
    }
    if (n == 0) return text;
    text.remove_suffix(n);
  }
}

// Case folding for names and format literals: ASCII A–Z and Cyrillic А–Я, Ё to lower case.
// It maps every character to one of the same byte length, so a folded literal's length is
// also the length of the text it matches. No locale: the daemon must not depend on one.
// Writes the folded form of the character at `text[i]` into `out` and returns its length.
std::size_t FoldAt(std::string_view text, std::size_t i, char out[2]) {
  auto c = static_cast<unsigned char>(text[i]);
  if (c >= 'A' && c <= 'Z') {
    out[0] = static_cast<char>(c + ('a' - 'A'));
    return 1;
  }
  if (c != 0xD0 || i + 1 >= text.size()) {
    out[0] = static_cast<char>(c);
    return 1;
  }
  auto d = static_cast<unsigned char>(text[i + 1]);
  if (d >= 0x90 && d <= 0x9F) {  // А–П (U+0410–U+041F) to а–п (U+0430–U+043F)
    out[0] = '\xD0';
    out[1] = static_cast<char>(d + 0x20);
  } else if (d >= 0xA0 && d <= 0xAF) {  // Р–Я (U+0420–U+042F) to р–я (U+0440–U+044F)
    out[0] = '\xD1';
    out[1] = static_cast<char>(d - 0x20);
  } else if (d == 0x81) {  // Ё (U+0401) to ё (U+0451)
    out[0] = '\xD1';
    out[1] = '\x91';
  } else {
    out[0] = '\xD0';
    out[1] = static_cast<char>(d);
  }
  return 2;
}

// True when `text` folds to `folded` (which is already lower case).
bool EqualsFolded(std::string_view text, std::string_view folded) {
  if (text.size() != folded.size()) return false;
  char out[2];
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = FoldAt(text, i, out);
    if (i + n > folded.size() || out[0] != folded[i] || (n == 2 && out[1] != folded[i + 1])) {
      return false;
    }
    i += n;
  }
  return true;
}

std::string Fold(std::string_view text) {
  std::string folded;
  folded.reserve(text.size());
  char out[2];
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = FoldAt(text, i, out);
    folded.append(out, n);
    i += n;
  }
  return folded;
}

// A word folded once, so that matching it against a table of names costs a comparison
// per name. No name is longer than 22 bytes ("воскресенье"); a longer word matches none.
class FoldedWord {
 public:
  explicit FoldedWord(std::string_view word) {
    if (word.size() > sizeof bytes_) return;
    char out[2];
    for (std::size_t i = 0; i < word.size();) {
      std::size_t n = FoldAt(word, i, out);
      bytes_[i] = out[0];
      if (n == 2) bytes_[i + 1] = out[1];
      i += n;
    }
    size_ = word.size();
    // Letters, not bytes or folding steps: every byte but a UTF-8 continuation starts one.
    for (std::size_t i = 0; i < size_; ++i) {
      letters_ += (static_cast<unsigned char>(bytes_[i]) & 0xC0) != 0x80;
    }
  }

  std::string_view view() const { return {bytes_, size_}; }
  bool Is(std::string_view name) const {
    return size_ > 0 && name.size() == size_ && SameStart(name) && view() == name;
  }
  // The whole name or a prefix of at least three letters (not bytes: "сен" is six): that
  // one rule covers "Sep", "Sept", "Tues", "Thurs", "сен", "сент", "нояб". No two months (or
  // two weekdays) share a three-letter prefix, in English or in Russian. The prefix must end
  // on a whole character of the name, so a truncated "се\xD0" is not "сен".
  bool Abbreviates(std::string_view name) const {
    return letters_ >= 3 && name.size() >= size_ && SameStart(name) && name.starts_with(view()) &&
           (name.size() == size_ || (static_cast<unsigned char>(name[size_]) & 0xC0) != 0x80);
  }

 private:
  // Spares a memcmp call for nearly every name of a table. Two bytes, because every
  // Cyrillic letter starts with D0 or D1. Callers have checked name.size() >= size_ > 0.
  bool SameStart(std::string_view name) const {
    return name[0] == bytes_[0] && (size_ < 2 || name[1] == bytes_[1]);
  }

  char bytes_[24];
  std::size_t size_ = 0;
  std::size_t letters_ = 0;
};

// ---------------------------------------------------------------------------------------
// Names.

struct MonthNames {
  std::string_view english;
  std::string_view nominative;  // Russian: "сентябрь"
  std::string_view genitive;    // Russian, as in a date: "26 сентября"
};

constexpr std::array<MonthNames, 12> kMonths = {{
    {"january", "январь", "января"},
    {"february", "февраль", "февраля"},
    {"march", "март", "марта"},
    {"april", "апрель", "апреля"},
    {"may", "май", "мая"},
    {"june", "июнь", "июня"},
    {"july", "июль", "июля"},
    {"august", "август", "августа"},
    {"september", "сентябрь", "сентября"},
    {"october", "октябрь", "октября"},
    {"november", "ноябрь", "ноября"},
    {"december", "декабрь", "декабря"},
}};

// 1–12, or 0 when `word` names no month.
int MonthFromName(std::string_view word) {
  FoldedWord folded(word);
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    const MonthNames& names = kMonths[i];
    if (folded.Abbreviates(names.english) || folded.Abbreviates(names.nominative) ||
        folded.Abbreviates(names.genitive)) {
      return static_cast<int>(i) + 1;
    }
  }
  return 0;
}

constexpr std::array<std::string_view, 7> kEnglishWeekdays = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
constexpr std::array<std::string_view, 7> kRussianWeekdays = {
    "понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"};
// Russian short forms that are not prefixes of the full names.
constexpr std::array<std::string_view, 14> kRussianShortWeekdays = {
    "пн", "вт", "ср", "чт", "пт", "сб", "вс", "пнд", "втр", "срд", "чтв", "птн", "сбт", "вск"};

bool IsWeekdayName(std::string_view word) {
  FoldedWord folded(word);
  for (std::string_view name : kEnglishWeekdays) {
    if (folded.Abbreviates(name)) return true;
  }
  for (std::string_view name : kRussianWeekdays) {
    if (folded.Abbreviates(name)) return true;
  }
  for (std::string_view name : kRussianShortWeekdays) {
    if (folded.Is(name)) return true;
  }
  return false;
}

struct ZoneAbbreviation {
  std::string_view name;  // folded
  int offset_minutes;     // east of UTC
};

// Zone names read by ParseDate. RFC 822 section 5 defines the first twelve; the rest are
// ones real feeds write (Russian, European, Caucasian, Asian and Australian sites). Where
// an abbreviation is ambiguous the reading common in feeds wins: CST is US Central (as RFC
// 822 says, not China), IST is India (not Ireland or Israel), AST is Atlantic (not Arabia),
// BST is British Summer Time. Fixed offsets: MSD and AZST are historical summer times.
// Any other ASCII word of up to five letters, military single letters included, reads as
// UTC, which is what RFC 2822 section 4.3 says of zones it does not know ("-0000").
constexpr auto kZones = std::to_array<ZoneAbbreviation>({
    // RFC 822 section 5.
    {"ut", 0},
    {"utc", 0},
    {"gmt", 0},
    {"z", 0},
    {"est", -5 * 60},
    {"edt", -4 * 60},
    {"cst", -6 * 60},
    {"cdt", -5 * 60},
    {"mst", -7 * 60},
    {"mdt", -6 * 60},
    {"pst", -8 * 60},
    {"pdt", -7 * 60},
    // Europe and Russia.
    {"wet", 0},     // Western European
    {"west", 60},   // Western European Summer
    {"bst", 60},    // British Summer
    {"cet", 60},    // Central European
    {"cest", 120},  // Central European Summer
    {"met", 60},    // Middle European (CET's older name)
    {"mest", 120},  // Middle European Summer
    {"eet", 120},   // Eastern European
    {"eest", 180},  // Eastern European Summer
    {"msk", 180},   // Moscow
    {"мск", 180},   // Moscow, as Russian sites write it
    {"msd", 240},   // Moscow Summer (until 2011)
    {"trt", 180},   // Turkey
    {"samt", 240},  // Samara
    {"yekt", 300},  // Yekaterinburg
    {"omst", 360},  // Omsk
    {"krat", 420},  // Krasnoyarsk
    {"irkt", 480},  // Irkutsk
    {"yakt", 540},  // Yakutsk
    {"vlat", 600},  // Vladivostok
    // Caucasus and Asia.
    {"azt", 240},   // Azerbaijan
    {"azst", 300},  // Azerbaijan Summer (until 2016)
    {"get", 240},   // Georgia
    {"pkt", 300},   // Pakistan
    {"ist", 330},   // India
    {"ict", 420},   // Indochina
    {"hkt", 480},   // Hong Kong
    {"sgt", 480},   // Singapore
    {"jst", 540},   // Japan
    {"kst", 540},   // Korea
    // Australia and New Zealand.
    {"awst", 480},  // Australian Western
    {"acst", 570},  // Australian Central
    {"aest", 600},  // Australian Eastern
    {"aedt", 660},  // Australian Eastern Daylight
    {"nzst", 720},  // New Zealand
    {"nzdt", 780},  // New Zealand Daylight
    // The rest of North America.
    {"ast", -4 * 60},   // Atlantic
    {"akst", -9 * 60},  // Alaska
    {"akdt", -8 * 60},  // Alaska Daylight
    {"hst", -10 * 60},  // Hawaii
});

std::optional<int> ZoneOffsetFromName(std::string_view word, bool unknown_is_utc) {
  FoldedWord folded(word);
  for (const ZoneAbbreviation& zone : kZones) {
    if (folded.Is(zone.name)) return zone.offset_minutes;
  }
  bool ascii = true;
  for (char c : word) ascii = ascii && IsAsciiLetter(c);
  if (unknown_is_utc && ascii && !word.empty() && word.size() <= 5) return 0;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Scanning.

// A cursor over the text. Every read checks bounds; Peek past the end gives '\0', which
// no caller mistakes for a match because none looks for NUL.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ >= text_.size(); }
  std::size_t pos() const { return pos_; }
  void Reset(std::size_t mark) { pos_ = mark; }
  char Peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  std::string_view Rest() const { return text_.substr(pos_); }
  void Advance(std::size_t n) { pos_ = n < text_.size() - pos_ ? pos_ + n : text_.size(); }

  bool Consume(char c) {
    if (AtEnd() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  // True when there was any whitespace.
  bool SkipSpaces() {
    std::size_t start = pos_;
    while (std::size_t n = SpaceLength(text_, pos_)) pos_ += n;
    return pos_ != start;
  }
  // Whitespace and commas, which sloppy feeds sprinkle anywhere between fields.
  void SkipSpacesAndCommas() {
    while (SkipSpaces() || Consume(',')) {
    }
  }
  // Reads up to `max_digits` digits; returns how many it read.
  int ReadDigits(int max_digits, int* value) {
    int count = 0;
    *value = 0;
    while (count < max_digits && IsDigit(Peek())) {
      *value = *value * 10 + (text_[pos_] - '0');
      ++pos_;
      ++count;
    }
    return count;
  }
  // The run of word bytes at the cursor, not consumed.
  std::string_view PeekWord() const {
    std::size_t end = pos_;
    while (end < text_.size() && IsWordByte(text_, end)) ++end;
    return text_.substr(pos_, end - pos_);
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// A whole run of digits whose length is within [min_digits, max_digits]: "123" is not a
// day, so a longer run fails rather than leaving a digit behind.
bool ReadNumber(Scanner& s, int min_digits, int max_digits, int* value) {
  int count = s.ReadDigits(max_digits, value);
  return count >= min_digits && !IsDigit(s.Peek());
}

// The civil fields of a date, and the UTC offset they are in.
struct Fields {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int offset_minutes = 0;
};

// The civil time, or nullopt for a day its month does not have (cctz normalises 30 Feb to
// 2 Mar; a changed field gives that away). Second 60 (a leap second) becomes the next
// minute's 00.
std::optional<cctz::civil_second> ToCivil(const Fields& f) {
  if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > 31 || f.hour < 0 || f.hour > 23 ||
      f.minute < 0 || f.minute > 59 || f.second < 0 || f.second > 60) {
    return std::nullopt;
  }
  cctz::civil_day day(f.year, f.month, f.day);
  if (day.month() != f.month || day.day() != f.day) return std::nullopt;
  return cctz::civil_second(day) + (f.hour * 3600 + f.minute * 60 + f.second);
}

core::TimePoint AtOffset(const cctz::civil_second& civil, int offset_minutes) {
  static constexpr cctz::civil_second kUnixEpoch(1970, 1, 1, 0, 0, 0);
  return core::TimePoint(std::chrono::seconds((civil - kUnixEpoch) - offset_minutes * 60));
}

std::optional<core::TimePoint> ToUtc(const Fields& f) {
  // Every item has a date: <chrono>'s calendar arithmetic, inline, costs a fraction of
  // cctz's and gives the same instant. Within the checks of ToCivil and the years
  // std::chrono::year holds (±32767); cctz for the rest.
  if (f.year >= -32767 && f.year <= 32767 && f.month >= 1 && f.month <= 12 && f.day >= 1 &&
      f.day <= 31 && f.hour >= 0 && f.hour <= 23 && f.minute >= 0 && f.minute <= 59 &&
      f.second >= 0 && f.second <= 60) {
    const std::chrono::year_month_day date(std::chrono::year(f.year),
                                           std::chrono::month(static_cast<unsigned>(f.month)),
                                           std::chrono::day(static_cast<unsigned>(f.day)));
    if (!date.ok()) return std::nullopt;  // the 31st of a 30-day month, February 29th
    return core::TimePoint(std::chrono::sys_days(date)) +
           std::chrono::seconds(f.hour * 3600 + f.minute * 60 + f.second - f.offset_minutes * 60);
  }
  std::optional<cctz::civil_second> civil = ToCivil(f);
  if (!civil) return std::nullopt;
  return AtOffset(*civil, f.offset_minutes);
}

// A month name at the cursor and the dot an abbreviation may carry ("Sep.", "сент.").
bool ReadMonthName(Scanner& s, int* month) {
  std::string_view word = s.PeekWord();
  *month = MonthFromName(word);
  if (*month == 0) return false;
  s.Advance(word.size());
  s.Consume('.');
  return true;
}

// A signed offset: "+0300", "+03:00", "+03", "-5". Hours up to 23, as RFC 3339 allows.
bool ReadNumericOffset(Scanner& s, int* offset_minutes) {
  int sign = s.Peek() == '-' ? -1 : 1;
  if (!s.Consume('+') && !s.Consume('-')) return false;
  int value = 0;
  int hours = 0;
  int minutes = 0;
  int digits = s.ReadDigits(5, &value);
  if (digits == 4) {
    hours = value / 100;
    minutes = value % 100;
  } else if (digits == 1 || digits == 2) {
    hours = value;
    if (s.Peek() == ':' && IsDigit(s.Peek(1))) {
      s.Advance(1);
      if (!ReadNumber(s, 2, 2, &minutes)) return false;
    }
  } else {
    return false;
  }
  if (IsDigit(s.Peek()) || hours > 23 || minutes > 59) return false;
  *offset_minutes = sign * (hours * 60 + minutes);
  return true;
}

// "AM"/"PM", "a.m."/"p.m." at the cursor, any case: true for PM. Leaves the cursor alone
// when there is none.
std::optional<bool> ReadMeridiem(Scanner& s) {
  char first = s.Peek();
  if (first != 'a' && first != 'A' && first != 'p' && first != 'P') return std::nullopt;
  std::string_view rest = s.Rest();
  for (std::string_view form : {"a.m.", "p.m.", "am", "pm"}) {
    if (!EqualsFolded(rest.substr(0, form.size()), form)) continue;
    if (rest.size() > form.size() && IsWordByte(rest, form.size())) continue;  // "amt"
    s.Advance(form.size());
    return form[0] == 'p';
  }
  return std::nullopt;
}

// A 12-hour clock's hour (1–12) to 0–23.
bool To24Hour(bool pm, int* hour) {
  if (*hour < 1 || *hour > 12) return false;
  *hour = *hour % 12 + (pm ? 12 : 0);
  return true;
}

// "06:35", "6:35:00", "06:35:00.123" and an optional AM/PM after it.
bool ReadClock(Scanner& s, Fields* f) {
  if (!ReadNumber(s, 1, 2, &f->hour) || !s.Consume(':') || !ReadNumber(s, 2, 2, &f->minute)) {
    return false;
  }
  f->second = 0;
  if (s.Consume(':')) {
    if (!ReadNumber(s, 2, 2, &f->second)) return false;
    // Fractional seconds: feeds carry no precision worth keeping, so they are dropped.
    if ((s.Peek() == '.' || s.Peek() == ',') && IsDigit(s.Peek(1))) {
      s.Advance(1);
      while (IsDigit(s.Peek())) s.Advance(1);
    }
  }
  std::size_t mark = s.pos();
  s.SkipSpaces();
  if (std::optional<bool> pm = ReadMeridiem(s)) return To24Hour(*pm, &f->hour);
  s.Reset(mark);
  return true;
}

bool StartsClock(const Scanner& s) {
  return IsDigit(s.Peek()) && (s.Peek(1) == ':' || (IsDigit(s.Peek(1)) && s.Peek(2) == ':'));
}

bool IsUniversalName(std::string_view word) {
  FoldedWord folded(word);
  return folded.Is("gmt") || folded.Is("utc") || folded.Is("ut");
}

// The zone after a time, if any: a numeric offset (optionally followed by the zone's name,
// as Go's time.String writes "+0000 UTC"), a name, or a name with an offset ("GMT+0300",
// as JavaScript's Date writes). No zone is UTC. Consumes nothing but spaces when there is
// no zone, so a year may follow.
bool ReadZone(Scanner& s, bool unknown_is_utc, int* offset_minutes) {
  *offset_minutes = 0;
  s.SkipSpaces();
  if (s.Peek() == '+' || s.Peek() == '-') {
    if (!ReadNumericOffset(s, offset_minutes)) return false;
    std::size_t mark = s.pos();
    s.SkipSpaces();
    std::string_view word = s.PeekWord();
    if (!word.empty() && ZoneOffsetFromName(word, unknown_is_utc)) {
      s.Advance(word.size());  // the offset wins over whatever the name says
    } else {
      s.Reset(mark);
    }
    return true;
  }
  std::string_view word = s.PeekWord();
  if (word.empty()) return true;
  std::optional<int> named = ZoneOffsetFromName(word, unknown_is_utc);
  if (!named) return false;
  s.Advance(word.size());
  *offset_minutes = *named;
  if ((s.Peek() == '+' || s.Peek() == '-') && IsUniversalName(word)) {
    return ReadNumericOffset(s, offset_minutes);
  }
  return true;
}

// The end of the text, allowing one trailing comment: "+0000 (UTC)", "GMT+0300 (Moscow
// Standard Time)".
bool AtEndAfterComment(Scanner& s) {
  s.SkipSpaces();
  if (s.Consume('(')) {
    while (!s.AtEnd() && s.Peek() != ')') s.Advance(1);
    if (!s.Consume(')')) return false;
    s.SkipSpaces();
  }
  return s.AtEnd();
}

// RFC 2822's rule for two-digit years (section 4.3: 00–49 are 20xx, 50–99 are 19xx) and
// for three-digit ones (add 1900).
bool ReadYear(Scanner& s, int* year) {
  int digits = s.ReadDigits(5, year);
  if (IsDigit(s.Peek())) return false;
  if (digits == 2) {
    *year += *year < 50 ? 2000 : 1900;
  } else if (digits == 3) {
    *year += 1900;
  } else if (digits != 4) {
    return false;
  }
  return true;
}

// "2023-09-26T06:35:00.5+03:00" and its relatives.
std::optional<core::TimePoint> ParseIso8601(Scanner s) {
  Fields f;
  if (!ReadNumber(s, 4, 4, &f.year) || !s.Consume('-') || !ReadNumber(s, 1, 2, &f.month) ||
      !s.Consume('-') || !ReadNumber(s, 1, 2, &f.day)) {
    return std::nullopt;
  }
  if (!s.AtEnd()) {
    if (!s.Consume('T') && !s.Consume('t') && !s.SkipSpaces()) return std::nullopt;
    // Only names from the table here: "06:35:00Zjunk" is not a date.
    if (!ReadClock(s, &f) || !ReadZone(s, /*unknown_is_utc=*/false, &f.offset_minutes) ||
        !AtEndAfterComment(s)) {
      return std::nullopt;
    }
  }
  return ToUtc(f);
}

// RFC 822/1123/2822 and the relatives feeds write: day first ("Tue, 26 Sep 2023 06:35:00
// GMT", RFC 850's "Tuesday, 26-Sep-23 06:35:00 GMT") or month first (JavaScript's "Tue Sep
// 26 2023 10:35:00 GMT+0300 (...)", asctime's "Tue Sep 26 06:35:00 2023", "September 26,
// 2023 10:35 AM EDT").
std::optional<core::TimePoint> ParseRfc2822(Scanner s) {
  Fields f;
  auto skip_date_separators = [&s] {
    while (s.SkipSpaces() || s.Consume(',') || s.Consume('-') || s.Consume('.') || s.Consume('/')) {
    }
  };
  s.SkipSpacesAndCommas();
  // The weekday is redundant and often wrong: it is recognised and ignored.
  if (std::string_view word = s.PeekWord(); !word.empty() && IsWeekdayName(word)) {
    s.Advance(word.size());
    s.Consume('.');
    s.SkipSpacesAndCommas();
  }
  if (IsDigit(s.Peek())) {
    if (!ReadNumber(s, 1, 2, &f.day)) return std::nullopt;
    skip_date_separators();
    if (!ReadMonthName(s, &f.month)) return std::nullopt;
    skip_date_separators();
    if (!ReadYear(s, &f.year)) return std::nullopt;
    s.SkipSpacesAndCommas();
    if (IsDigit(s.Peek()) && !ReadClock(s, &f)) return std::nullopt;
  } else {
    if (!ReadMonthName(s, &f.month)) return std::nullopt;
    skip_date_separators();
    if (!ReadNumber(s, 1, 2, &f.day)) return std::nullopt;
    s.SkipSpacesAndCommas();
    if (StartsClock(s)) {  // asctime and date(1): the year comes last
      if (!ReadClock(s, &f) || !ReadZone(s, /*unknown_is_utc=*/true, &f.offset_minutes)) {
        return std::nullopt;
      }
      s.SkipSpaces();
      if (!ReadYear(s, &f.year) || !AtEndAfterComment(s)) return std::nullopt;
      return ToUtc(f);
    }
    if (!ReadYear(s, &f.year)) return std::nullopt;
    s.SkipSpacesAndCommas();
    if (IsDigit(s.Peek()) && !ReadClock(s, &f)) return std::nullopt;
  }
  s.SkipSpacesAndCommas();
  if (!ReadZone(s, /*unknown_is_utc=*/true, &f.offset_minutes) || !AtEndAfterComment(s)) {
    return std::nullopt;
  }
  return ToUtc(f);
}

bool LooksLikeIso8601(std::string_view text) {
  return text.size() >= 5 && IsDigit(text[0]) && IsDigit(text[1]) && IsDigit(text[2]) &&
         IsDigit(text[3]) && text[4] == '-';
}

// ---------------------------------------------------------------------------------------
// DateFormat's compiled form.

enum class Step {
  kLiteral,      // folded text, matched ignoring case
  kSpace,        // any run of whitespace, including none
  kDay,          // %d, %e
  kMonth,        // %m
  kMonthName,    // %B, %b, %h
  kWeekdayName,  // %A, %a: checked to be a weekday, then ignored
  kYear,         // %Y: four digits
  kShortYear,    // %y: two digits
  kHour,         // %H
  kHour12,       // %I
  kMinute,       // %M
  kSecond,       // %S
  kMeridiem,     // %p
  kOffset,       // %z
  kZoneName,     // %Z: a word, ignored (the configured zone or %z decides)
};

struct FormatStep {
  Step kind;
  std::string literal;        // kLiteral only
  bool optional_dot = false;  // names: the format's "." after them may be missing
};

// The length of the UTF-8 character at `text[pos]`, for naming it in an error.
std::size_t CharLength(std::string_view text, std::size_t pos) {
  auto c = static_cast<unsigned char>(text[pos]);
  std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  return std::min(n, text.size() - pos);
}

}  // namespace

// The layouts nearly every feed writes, read at fixed positions: RFC 1123
// ("Tue, 26 Sep 2023 10:35:00 GMT", "+0400"; a one-digit day too) and RFC 3339
// ("2023-09-26T06:35:00Z", "+04:00", fractions). Anything else, or a value out of range,
// is left to the general parsers below (nullopt here), which give the same result for
// these layouts at several times the cost.
std::optional<core::TimePoint> ParseCommonLayout(std::string_view t) {
  auto digits = [&](std::size_t at, std::size_t n, int* out) {
    if (at + n > t.size()) return false;
    int value = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      value = value * 10 + (t[i] - '0');
    }
    *out = value;
    return true;
  };
  // "+HHMM", "+HH:MM" (colon as given), or the universal names.
  auto zone = [&](std::size_t at, bool colon, int* minutes) {
    std::string_view z = t.substr(at);
    if (z == "GMT" || z == "UT" || z == "UTC" || z == "Z") {
      *minutes = 0;
      return true;
    }
    int hours = 0, mins = 0;
    if (z.size() != (colon ? 6u : 5u) || (z[0] != '+' && z[0] != '-') ||
        !digits(at + 1, 2, &hours) || (colon && z[3] != ':') ||
        !digits(at + (colon ? 4 : 3), 2, &mins) || hours > 23 || mins > 59) {
      return false;
    }
    *minutes = (z[0] == '-' ? -1 : 1) * (hours * 60 + mins);
    return true;
  };
  Fields f;
  if (t.size() >= 20 && t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' &&
      t[16] == ':') {
    if (!digits(0, 4, &f.year) || !digits(5, 2, &f.month) || !digits(8, 2, &f.day) ||
        !digits(11, 2, &f.hour) || !digits(14, 2, &f.minute) || !digits(17, 2, &f.second)) {
      return std::nullopt;
    }
    std::size_t at = 19;
    if (t[at] == '.') {
      do ++at;
      while (at < t.size() && t[at] >= '0' && t[at] <= '9');
      if (at == 20) return std::nullopt;
    }
    if (!zone(at, true, &f.offset_minutes)) return std::nullopt;
    return ToUtc(f);
  }
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  static constexpr std::string_view kWeekdays = "MonTueWedThuFriSatSun";
  // The index of the three letters at `at` among `names` (three letters each), or -1. A
  // compare per name: find() would call memchr and memcmp for every date.
  auto name_at = [&](std::string_view names, std::size_t at) {
    for (std::size_t i = 0; i < names.size(); i += 3) {
      if (t[at] == names[i] && t[at + 1] == names[i + 1] && t[at + 2] == names[i + 2]) {
        return static_cast<int>(i / 3);
      }
    }
    return -1;
  };
  if (t.size() < 28 || t[3] != ',' || t[4] != ' ' || name_at(kWeekdays, 0) < 0) {
    return std::nullopt;
  }
  std::size_t at = 5;
  std::size_t day_digits = t[6] == ' ' ? 1 : 2;
  if (!digits(at, day_digits, &f.day)) return std::nullopt;
  at += day_digits;
  if (t[at] != ' ' || t[at + 4] != ' ' || t[at + 9] != ' ' || t[at + 12] != ':' ||
      t[at + 15] != ':' || t.size() < at + 20 || t[at + 18] != ' ') {
    return std::nullopt;
  }
  const int month = name_at(kMonths, at + 1);
  if (month < 0) return std::nullopt;
  f.month = month + 1;
  if (!digits(at + 5, 4, &f.year) || !digits(at + 10, 2, &f.hour) ||
      !digits(at + 13, 2, &f.minute) || !digits(at + 16, 2, &f.second) ||
      !zone(at + 19, false, &f.offset_minutes)) {
    return std::nullopt;
  }
  return ToUtc(f);
}

std::optional<core::TimePoint> ParseDate(std::string_view text) {
  text = TrimSpace(text);
  if (text.empty()) return std::nullopt;
  if (auto common = ParseCommonLayout(text)) return common;
  if (LooksLikeIso8601(text)) return ParseIso8601(Scanner(text));
  return ParseRfc2822(Scanner(text));
}

struct DateFormat::Impl {
  std::vector<FormatStep> steps;
  cctz::time_zone zone;
  bool twelve_hour = false;
};

std::optional<DateFormat> DateFormat::Make(std::string format, const std::string& time_zone,
                                           std::string* error) {
  auto fail = [error](std::string message) {
    if (error != nullptr) *error = std::move(message);
    return std::nullopt;
  };
  auto impl = std::make_unique<Impl>();
  if (time_zone.empty() || !cctz::load_time_zone(time_zone, &impl->zone)) {
    return fail("unknown time zone '" + time_zone + "'");
  }
  if (format.empty()) return fail("empty date format");

  std::vector<FormatStep>& steps = impl->steps;
  std::string literal;
  auto flush_literal = [&] {
    if (literal.empty()) return;
    steps.push_back({Step::kLiteral, Fold(literal)});
    literal.clear();
  };
  for (std::size_t i = 0; i < format.size();) {
    if (std::size_t n = SpaceLength(format, i)) {
      flush_literal();
      if (steps.empty() || steps.back().kind != Step::kSpace) steps.push_back({Step::kSpace});
      i += n;
      continue;
    }
    if (format[i] != '%') {
      literal += format[i++];
      continue;
    }
    if (i + 1 == format.size()) return fail("date format '" + format + "' ends with a lone '%'");
    char directive = format[i + 1];
    if (directive == '%') {
      literal += '%';
      i += 2;
      continue;
    }
    flush_literal();
    Step kind;
    switch (directive) {
      case 'd':
      case 'e':
        kind = Step::kDay;
        break;
      case 'm':
        kind = Step::kMonth;
        break;
      case 'B':
      case 'b':
      case 'h':
        kind = Step::kMonthName;
        break;
      case 'A':
      case 'a':
        kind = Step::kWeekdayName;
        break;
      case 'Y':
        kind = Step::kYear;
        break;
      case 'y':
        kind = Step::kShortYear;
        break;
      case 'H':
        kind = Step::kHour;
        break;
      case 'I':
        kind = Step::kHour12;
        break;
      case 'M':
        kind = Step::kMinute;
        break;
      case 'S':
        kind = Step::kSecond;
        break;
      case 'p':
        kind = Step::kMeridiem;
        break;
      case 'z':
        kind = Step::kOffset;
        break;
      case 'Z':
        kind = Step::kZoneName;
        break;
      default:
        return fail("unknown directive '%" + format.substr(i + 1, CharLength(format, i + 1)) +
                    "' in date format '" + format + "'");
    }
    steps.push_back({kind});
    i += 2;
  }
  flush_literal();

  // Sites abbreviate most months but not May ("26 сент. 2023", "26 мая 2023"), so the dot
  // a format puts after a name is optional in the text.
  for (std::size_t i = 0; i + 1 < steps.size(); ++i) {
    bool name = steps[i].kind == Step::kMonthName || steps[i].kind == Step::kWeekdayName;
    FormatStep& next = steps[i + 1];
    if (!name || next.kind != Step::kLiteral || next.literal[0] != '.') continue;
    steps[i].optional_dot = true;
    next.literal.erase(0, 1);
    if (next.literal.empty()) steps.erase(steps.begin() + static_cast<std::ptrdiff_t>(i) + 1);
  }

  // Parse is pure, so there is no clock to supply a missing year: a format that cannot
  // name a day fails here, once, instead of on every page.
  auto has = [&steps](std::initializer_list<Step> kinds) {
    for (const FormatStep& step : steps) {
      if (std::find(kinds.begin(), kinds.end(), step.kind) != kinds.end()) return true;
    }
    return false;
  };
  if (!has({Step::kDay})) {
    return fail("date format '" + format + "' has no day (%d or %e)");
  }
  if (!has({Step::kMonth, Step::kMonthName})) {
    return fail("date format '" + format + "' has no month (%m, %B or %b)");
  }
  if (!has({Step::kYear, Step::kShortYear})) {
    return fail("date format '" + format + "' has no year (%Y or %y)");
  }
  impl->twelve_hour = has({Step::kHour12});
  if (impl->twelve_hour != has({Step::kMeridiem})) {
    return fail("date format '" + format + "' must use %I and %p together");
  }
  return DateFormat(std::move(impl));
}

std::optional<core::TimePoint> DateFormat::Parse(std::string_view text) const {
  Scanner s(TrimSpace(text));
  Fields f;
  bool pm = false;
  std::optional<int> offset_minutes;  // from %z; otherwise the configured zone decides
  auto number = [&s](int min_digits, int max_digits, int* value) {
    return s.ReadDigits(max_digits, value) >= min_digits;
  };
  for (const FormatStep& step : impl_->steps) {
    bool ok = true;
    switch (step.kind) {
      case Step::kLiteral:
        ok = EqualsFolded(s.Rest().substr(0, step.literal.size()), step.literal);
        s.Advance(step.literal.size());
        break;
      case Step::kSpace:
        s.SkipSpaces();
        break;
      case Step::kDay:
        s.SkipSpaces();  // %e pads with a space
        ok = number(1, 2, &f.day);
        break;
      case Step::kMonth:
        ok = number(1, 2, &f.month);
        break;
      case Step::kMonthName:
      case Step::kWeekdayName: {
        std::string_view word = s.PeekWord();
        if (step.kind == Step::kMonthName) {
          f.month = MonthFromName(word);
          ok = f.month != 0;
        } else {
          ok = IsWeekdayName(word);
        }
        s.Advance(word.size());
        if (step.optional_dot) s.Consume('.');
        break;
      }
      case Step::kYear:
        ok = number(4, 4, &f.year);
        break;
      case Step::kShortYear:
        ok = number(2, 2, &f.year);
        f.year += f.year < 50 ? 2000 : 1900;  // as RFC 2822 reads two-digit years
        break;
      case Step::kHour:
      case Step::kHour12:
        ok = number(1, 2, &f.hour);
        break;
      case Step::kMinute:
        ok = number(1, 2, &f.minute);
        break;
      case Step::kSecond:
        ok = number(1, 2, &f.second);
        break;
      case Step::kMeridiem: {
        std::optional<bool> meridiem = ReadMeridiem(s);
        ok = meridiem.has_value();
        pm = meridiem.value_or(false);
        break;
      }
      case Step::kOffset: {
        int minutes = 0;
        ok = s.Consume('Z') || s.Consume('z') || ReadNumericOffset(s, &minutes);
        offset_minutes = minutes;
        break;
      }
      case Step::kZoneName: {
        std::size_t length = s.PeekWord().size();
        ok = length > 0;
        s.Advance(length);
        break;
      }
    }
    if (!ok) return std::nullopt;
  }
  if (!s.AtEnd()) return std::nullopt;
  if (impl_->twelve_hour && !To24Hour(pm, &f.hour)) return std::nullopt;

  std::optional<cctz::civil_second> civil = ToCivil(f);
  if (!civil) return std::nullopt;
  if (offset_minutes) return AtOffset(*civil, *offset_minutes);
  // In a DST gap (a time the clocks skipped) or overlap (a time they showed twice), read
  // the time with the offset in force before the change: for an overlap that is the first
  // of the two instants, for a gap the time the page most likely meant.
  return impl_->zone.lookup(*civil).pre;
}

DateFormat::DateFormat(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DateFormat::~DateFormat() = default;
DateFormat::DateFormat(DateFormat&&) noexcept = default;
DateFormat& DateFormat::operator=(DateFormat&&) noexcept = default;

}  // namespace newsmon::parse
