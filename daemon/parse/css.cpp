#include "daemon/parse/css.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "daemon/parse/ascii.h"
#include "daemon/parse/utf8.h"

namespace newsmon::parse {
namespace {

// Selectors come from the config and are short; the caps keep a fuzzed or pasted-in
// monster from producing an XPath that takes pugixml long to compile or run.
constexpr std::size_t kMaxSelectorBytes = 4096;
constexpr std::size_t kMaxXPathBytes = 64 * 1024;
// Larger an+b coefficients cannot match any real page and would lose precision as doubles.
constexpr std::size_t kMaxNthDigits = 9;
// How much of the selector an error message quotes.
constexpr std::size_t kMaxQuotedBytes = 200;
constexpr std::string_view kXPathPrefix = "xpath:";
constexpr std::string_view kClassTest = "contains(concat(' ', normalize-space(@class), ' '), ";

bool IsHexDigit(char c) {
  return IsAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool IsNonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool IsNameChar(char c) {
  return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '-' || c == '_' || IsNonAscii(c);
}

int HexValue(char c) {
  if (IsAsciiDigit(c)) return c - '0';
  return (c | 0x20) - 'a' + 10;
}

std::string AsciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Whether `name` can stand in XPath as a name test. Anything else (non-ASCII, escaped
// punctuation) is compared through name() instead, so no selector turns into broken XPath.
bool IsPlainXPathName(std::string_view name) {
  if (name.empty() || !(IsAsciiAlpha(name[0]) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '-' || c == '_' || c == '.';
  });
}

// An XPath 1.0 string literal. The language has no escapes, so a value holding both kinds
// of quote is built with concat().
std::string XPathLiteral(std::string_view s) {
  if (s.find('\'') == std::string_view::npos) return "'" + std::string(s) + "'";
  if (s.find('"') == std::string_view::npos) return "\"" + std::string(s) + "\"";
  std::string out = "concat(";
  std::size_t start = 0;
  while (start < s.size()) {
    if (start > 0) out += ", ";
    if (s[start] == '\'') {
      out += "\"'\"";
      ++start;
      continue;
    }
    std::size_t end = std::min(s.find('\'', start), s.size());
    out += "'" + std::string(s.substr(start, end - start)) + "'";
    start = end;
  }
  return out + ")";
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

void AppendHexByte(std::string& out, char c) {
  constexpr char kHex[] = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(c);
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 0xf];
}

// `text` fit for an error message: control bytes and invalid UTF-8 as \xNN, cut when long.
std::string Printable(std::string_view text) {
  std::string out;
  const bool cut = text.size() > kMaxQuotedBytes;
  if (cut) text = text.substr(0, kMaxQuotedBytes);
  while (!text.empty()) {
    const std::size_t valid = ValidUtf8Prefix(text);
    for (char c : text.substr(0, valid)) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        AppendHexByte(out, c);
      } else {
        out += c;
      }
    }
    text.remove_prefix(valid);
    if (text.empty()) break;
    AppendHexByte(out, text[0]);  // an invalid byte, or a character split by the cut
    text.remove_prefix(1);
  }
  if (cut) out += "...";
  return out;
}

// The parsed form of an an+b argument of :nth-child() and friends.
struct Nth {
  std::int64_t a = 0;
  std::int64_t b = 0;
};

// Parses "odd", "even", "an+b", "an", "b" and their signed forms, with spaces around the
// sign of b. Returns false when `arg` is none of those or a number has too many digits.
bool ParseNth(std::string_view arg, Nth* nth) {
  while (!arg.empty() && IsMarkupSpace(arg.front())) arg.remove_prefix(1);
  while (!arg.empty() && IsMarkupSpace(arg.back())) arg.remove_suffix(1);
  std::string lower = AsciiLower(std::string(arg));
  if (lower == "odd") {
    *nth = {2, 1};
    return true;
  }
  if (lower == "even") {
    *nth = {2, 0};
    return true;
  }
  std::string_view s = lower;
  std::size_t i = 0;
  auto read_number = [&](std::int64_t* value) {
    std::size_t start = i;
    while (i < s.size() && IsAsciiDigit(s[i])) ++i;
    if (i - start > kMaxNthDigits) return false;
    *value = 0;
    for (std::size_t k = start; k < i; ++k) *value = *value * 10 + (s[k] - '0');
    return i > start;
  };
  std::int64_t sign = 1;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) sign = s[i++] == '-' ? -1 : 1;
  std::int64_t number = 0;
  bool has_number = read_number(&number);
  if (i < s.size() && s[i] == 'n') {
    ++i;
    nth->a = sign * (has_number ? number : 1);
    while (i < s.size() && IsMarkupSpace(s[i])) ++i;
    if (i == s.size()) {
      nth->b = 0;
      return true;
    }
    if (s[i] != '+' && s[i] != '-') return false;
    std::int64_t b_sign = s[i++] == '-' ? -1 : 1;
    while (i < s.size() && IsMarkupSpace(s[i])) ++i;
    std::int64_t b = 0;
    if (!read_number(&b) || i != s.size()) return false;
    nth->b = b_sign * b;
    return true;
  }
  if (!has_number || i != s.size()) return false;
  *nth = {0, sign * number};
  return true;
}

// The conditions for "this element is the k-th (1-based) for some n >= 0 with k = an+b",
// where `index` is an XPath expression for k - `offset` (offset 0 or 1) that is never
// negative, so XPath's truncating mod behaves. No conditions means always true.
std::vector<std::string> NthConditions(const Nth& nth, const std::string& index, int offset) {
  const std::int64_t a = nth.a;
  const std::int64_t b = nth.b;
  if (a == 0) {
    if (b < 1) return {"false()"};
    return {index + " = " + std::to_string(b - offset)};
  }
  if (a < 0 && b < 1) return {"false()"};
  std::vector<std::string> conditions;
  // k >= b for a > 0, k <= b for a < 0.
  if (a > 0 && b > 1) conditions.push_back(index + " >= " + std::to_string(b - offset));
  if (a < 0) conditions.push_back(index + " <= " + std::to_string(b - offset));
  // k - b divisible by |a|.
  const std::int64_t m = a < 0 ? -a : a;
  if (m > 1) {
    const std::int64_t remainder = ((b - offset) % m + m) % m;
    conditions.push_back(index + " mod " + std::to_string(m) + " = " + std::to_string(remainder));
  }
  return conditions;
}

// An :nth-child() and the like, kept apart from the other conditions so that the step it
// ends up in can pick how to count.
struct NthTest {
  Nth nth;
  bool from_end = false;  // nth-last-*
  std::string of_type;    // the element type counted; empty for the *-child forms
};

// One compound selector: a type and what all its simple selectors require.
struct Compound {
  std::string type;  // lower-case element name; empty for `*` or no type
  std::vector<std::string> conditions;
  std::vector<NthTest> nths;
};

// The XPath node test for elements named `type` ("" = any element).
std::string NameTest(const std::string& type) {
  if (type.empty()) return "*";
  if (IsPlainXPathName(type)) return type;
  return "*[name() = " + XPathLiteral(type) + "]";
}

// `test` counted by its siblings: O(siblings) per element, so quadratic on a long list.
std::vector<std::string> CountedNthConditions(const NthTest& test) {
  const std::string siblings = std::string(test.from_end ? "following" : "preceding") +
                               "-sibling::" + NameTest(test.of_type);
  return NthConditions(test.nth, "count(" + siblings + ")", 1);
}

// `test` by the context position, valid only in a predicate that comes first on a child
// step (before anything filters the node set): linear however long the list.
std::vector<std::string> PositionalNthConditions(const NthTest& test) {
  if (test.from_end) return NthConditions(test.nth, "last() - position()", 1);
  return NthConditions(test.nth, "position()", 0);
}

void Append(std::vector<std::string>& to, std::vector<std::string> from) {
  for (auto& item : from) to.push_back(std::move(item));
}

// The XPath step selecting the elements `compound` matches. On a child step (the first
// step, and after a descendant or child combinator) :nth-child() and :nth-of-type() use
// position(), which pugixml evaluates in one pass; after a sibling combinator position()
// means something else and they count siblings.
std::string Step(const Compound& compound, bool child_step) {
  const std::string& type = compound.type;
  const bool plain = IsPlainXPathName(type);
  // Which of the nth tests go by position: the *-child ones if any say something, else the
  // ones counting this compound's type. position() can count only one way per step.
  std::vector<std::string> positional;
  std::vector<std::string> conditions;
  auto by_position = [&](bool of_type) {
    std::vector<std::string> out;
    for (const NthTest& nth : compound.nths) {
      if (of_type ? nth.of_type == type : nth.of_type.empty()) {
        Append(out, PositionalNthConditions(nth));
      }
    }
    return out;
  };
  bool by_child_position = false;
  bool by_type_position = false;
  if (child_step) {
    positional = by_position(false);
    by_child_position = !positional.empty();
    if (!by_child_position && !type.empty()) {
      positional = by_position(true);
      by_type_position = !positional.empty();
    }
  }

  std::string test;
  if (by_child_position) {
    test = "*";  // the position among all element children; the type is checked after
    if (!type.empty()) {
      conditions.push_back(plain ? "self::" + type : "name() = " + XPathLiteral(type));
    }
  } else if (by_type_position || plain || type.empty()) {
    test = NameTest(type);  // `*[name() = 'x']` filters first, so position() still counts x's
  } else {
    test = "*";
    conditions.push_back("name() = " + XPathLiteral(type));
  }
  for (const NthTest& nth : compound.nths) {
    const bool done =
        (by_child_position && nth.of_type.empty()) || (by_type_position && nth.of_type == type);
    if (!done) Append(conditions, CountedNthConditions(nth));
  }
  conditions.insert(conditions.end(), compound.conditions.begin(), compound.conditions.end());
  if (!positional.empty()) test += "[" + Join(positional, " and ") + "]";
  if (!conditions.empty()) test += "[" + Join(conditions, " and ") + "]";
  return test;
}

// `compound` as one boolean expression on the context element (for :not()).
std::string AsCondition(const Compound& compound) {
  std::vector<std::string> conditions;
  if (!compound.type.empty()) {
    conditions.push_back(IsPlainXPathName(compound.type)
                             ? "self::" + compound.type
                             : "name() = " + XPathLiteral(compound.type));
  }
  for (const NthTest& nth : compound.nths) Append(conditions, CountedNthConditions(nth));
  conditions.insert(conditions.end(), compound.conditions.begin(), compound.conditions.end());
  if (conditions.empty()) return "true()";
  return Join(conditions, " and ");
}

// How the value of an attribute selector is compared.
std::string AttributeCondition(const std::string& ref, std::string_view op,
                               const std::string& value, bool ignore_case) {
  // [a=v i]: compare lower-cased; translate() only folds ASCII, as browsers do for HTML.
  const std::string operand = ignore_case
                                  ? "translate(" + ref + ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', " +
                                        "'abcdefghijklmnopqrstuvwxyz')"
                                  : ref;
  const std::string v = ignore_case ? AsciiLower(value) : value;
  const std::string literal = XPathLiteral(v);
  if (op == "=")
    return ignore_case ? "(" + ref + " and " + operand + " = " + literal + ")"
                       : ref + " = " + literal;
  if (op == "|=") {
    return "(" + ref + " and (" + operand + " = " + literal + " or starts-with(" + operand + ", " +
           XPathLiteral(v + "-") + ")))";
  }
  // The substring operators never match an empty value (Selectors Level 3), nor does ~=
  // match a value with whitespace in it: it could never be one whole word.
  if (v.empty()) return "false()";
  if (op == "~=") {
    if (std::any_of(v.begin(), v.end(), IsMarkupSpace)) return "false()";
    return "contains(concat(' ', normalize-space(" + operand + "), ' '), " +
           XPathLiteral(" " + v + " ") + ")";
  }
  if (op == "^=") return "starts-with(" + operand + ", " + literal + ")";
  if (op == "*=") return "contains(" + operand + ", " + literal + ")";
  // $=: XPath 1.0 has no ends-with. string-length() on both sides keeps it right whatever
  // unit (bytes or characters) the engine counts in.
  return "substring(" + operand + ", string-length(" + operand + ") - string-length(" + literal +
         ") + 1) = " + literal;
}

// A recursive-descent translator over the selector. Every Parse* function returns false
// after setting error_; `pos_` is a byte offset into the selector.
class Translator {
 public:
  Translator(std::string_view selector, bool relative) : s_(selector), relative_(relative) {}

  bool Translate(std::string* xpath) {
    SkipSpace();
    if (AtEnd()) return Fail("empty selector");
    while (true) {
      std::string complex;
      if (!ParseComplex(&complex)) return false;
      if (!xpath->empty()) *xpath += " | ";
      *xpath += complex;
      if (xpath->size() > kMaxXPathBytes) {
        return Fail("selector '" + Printable(s_) + "' is too complex (its XPath is over " +
                    std::to_string(kMaxXPathBytes) + " bytes)");
      }
      if (AtEnd()) return true;
      ++pos_;  // ','
    }
  }

  const std::string& error() const { return error_; }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek(std::size_t ahead = 0) const {
    return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0';
  }
  bool AtNameStart() const {
    if (AtEnd()) return false;
    char c = s_[pos_];
    return IsAsciiAlpha(c) || c == '_' || c == '-' || c == '\\' || IsNonAscii(c);
  }
  bool SkipSpace() {
    std::size_t start = pos_;
    while (!AtEnd() && IsMarkupSpace(s_[pos_])) ++pos_;
    return pos_ > start;
  }

  bool Fail(std::string message) {
    error_ = std::move(message);
    return false;
  }
  // Offsets in messages count bytes from 1, like an editor's column.
  bool FailAt(const std::string& what, std::size_t at) {
    return Fail(what + " at offset " + std::to_string(at + 1) + " in '" + Printable(s_) + "'");
  }
  bool Unexpected() {
    if (AtEnd()) return FailAt("unexpected end of selector", pos_);
    std::size_t length = 1;
    if (IsNonAscii(s_[pos_])) {
      length = ValidUtf8Prefix(s_.substr(pos_, 4));
      // The prefix may hold more than one character; show the first only.
      length = length == 0 ? 1 : std::min(length, Utf8Length(s_[pos_]));
    }
    return FailAt("unexpected '" + Printable(s_.substr(pos_, length)) + "'", pos_);
  }
  static std::size_t Utf8Length(char lead) {
    auto c = static_cast<unsigned char>(lead);
    if (c >= 0xF0) return 4;
    if (c >= 0xE0) return 3;
    return 2;
  }

  // complex := compound (combinator compound)*; stops before ',' or the end.
  bool ParseComplex(std::string* out) {
    SkipSpace();
    Compound first;
    if (!ParseCompound(&first, false, "")) return false;
    *out = (relative_ ? ".//" : "//") + Step(first, true);
    while (true) {
      bool space = SkipSpace();
      if (AtEnd() || Peek() == ',') return true;
      std::string_view axis;
      switch (Peek()) {
        case '>':
          axis = "/";
          break;
        case '+':
          axis = "/following-sibling::*[1]/self::";
          break;
        case '~':
          axis = "/following-sibling::";
          break;
        default:
          if (!space) return Unexpected();
          axis = "//";
      }
      if (axis != "//") {
        ++pos_;
        SkipSpace();
      }
      Compound next;
      if (!ParseCompound(&next, false, "")) return false;
      *out += axis;
      *out += Step(next, axis == "//" || axis == "/");
      if (out->size() > kMaxXPathBytes) {
        return Fail("selector '" + Printable(s_) + "' is too complex (its XPath is over " +
                    std::to_string(kMaxXPathBytes) + " bytes)");
      }
    }
  }

  // compound := (type | '*')? ('.' ident | '#' ident | '[' ... ']' | ':' pseudo)*, at least
  // one part. `outer_type` is the type of the compound around a :not(), which the
  // *-of-type pseudo-classes inside it count by.
  bool ParseCompound(Compound* compound, bool in_not, const std::string& outer_type) {
    const std::size_t start = pos_;
    if (Peek() == '*') {
      ++pos_;
    } else if (AtNameStart()) {
      std::string name;
      if (!ReadIdent(&name)) return false;
      compound->type = AsciiLower(std::move(name));
    }
    while (!AtEnd()) {
      const char c = Peek();
      if (c == '.' || c == '#') {
        ++pos_;
        std::string value;
        if (!ReadIdent(&value)) return false;
        compound->conditions.push_back(c == '.' ? std::string(kClassTest) +
                                                      XPathLiteral(" " + value + " ") + ")"
                                                : "@id = " + XPathLiteral(value));
      } else if (c == '[') {
        if (!ParseAttribute(compound)) return false;
      } else if (c == ':') {
        const std::string& type = compound->type.empty() ? outer_type : compound->type;
        if (!ParsePseudo(compound, in_not, type)) return false;
      } else {
        break;
      }
    }
    if (pos_ == start) return Unexpected();
    return true;
  }

  // An identifier with CSS escapes resolved; at least one character.
  bool ReadIdent(std::string* out) {
    const std::size_t start = pos_;
    while (!AtEnd()) {
      if (Peek() == '\\') {
        if (!ReadEscape(out, false)) return false;
      } else if (IsNameChar(Peek())) {
        out->push_back(s_[pos_++]);
      } else {
        break;
      }
    }
    if (pos_ == start) return Unexpected();
    return true;
  }

  // At a backslash: \HEX{1,6} plus one optional space, or \ and any other character. In a
  // string, a backslash before a newline continues the line.
  bool ReadEscape(std::string* out, bool in_string) {
    const std::size_t at = pos_++;
    if (AtEnd()) return FailAt("unfinished escape", at);
    const char c = s_[pos_];
    if (IsHexDigit(c)) {
      char32_t code_point = 0;
      for (int digits = 0; digits < 6 && !AtEnd() && IsHexDigit(Peek()); ++digits) {
        code_point = code_point * 16 + static_cast<char32_t>(HexValue(s_[pos_++]));
      }
      if (Peek() == '\r' && Peek(1) == '\n') {
        pos_ += 2;
      } else if (!AtEnd() && IsMarkupSpace(Peek())) {
        ++pos_;
      }
      AppendUtf8(*out, code_point);  // NUL, surrogates, > U+10FFFF become U+FFFD
      return true;
    }
    if (c == '\n' || c == '\r' || c == '\f') {
      if (!in_string) return FailAt("escaped newline", at);
      pos_ += (c == '\r' && Peek(1) == '\n') ? 2 : 1;
      return true;
    }
    if (c == '\0') return FailAt("escaped NUL", at);
    out->push_back(s_[pos_++]);
    return true;
  }

  // At a quote: the string up to the matching quote, escapes resolved.
  bool ReadString(std::string* out) {
    const std::size_t open = pos_;
    const char quote = s_[pos_++];
    while (true) {
      if (AtEnd()) return FailAt("unterminated string", open);
      const char c = Peek();
      if (c == quote) {
        ++pos_;
        return true;
      }
      if (c == '\n' || c == '\r' || c == '\f') return FailAt("newline in string", pos_);
      if (c == '\0') return Unexpected();
      if (c == '\\') {
        if (!ReadEscape(out, true)) return false;
      } else {
        out->push_back(s_[pos_++]);
      }
    }
  }

  // An unquoted attribute value. Lenient: CSS wants an identifier, but people write
  // [colspan=2] and [href=/news/], and their meaning is clear.
  bool ReadBareValue(std::string* out) {
    const std::size_t start = pos_;
    if (Peek() == '=') return Unexpected();  // "[a==b]" is a typo, not the value "=b"
    while (!AtEnd()) {
      const char c = Peek();
      if (IsMarkupSpace(c) || c == ']' || c == '[' || c == '"' || c == '\'' || c == '(' ||
          c == ')' || c == ',' || c == '\0') {
        break;
      }
      if (c == '\\') {
        if (!ReadEscape(out, false)) return false;
      } else {
        out->push_back(s_[pos_++]);
      }
    }
    if (pos_ == start) return Unexpected();
    return true;
  }

  // '[' name (op value flag?)? ']'
  bool ParseAttribute(Compound* compound) {
    ++pos_;  // '['
    SkipSpace();
    if (!AtNameStart()) return Unexpected();
    std::string name;
    if (!ReadIdent(&name)) return false;
    name = AsciiLower(std::move(name));
    const std::string ref =
        IsPlainXPathName(name) ? "@" + name : "@*[name() = " + XPathLiteral(name) + "]";
    SkipSpace();
    if (Peek() == ']') {
      ++pos_;
      compound->conditions.push_back(ref);
      return true;
    }
    std::string op;
    if (Peek() == '=') {
      op = "=";
    } else if (std::string_view("~^$*|").find(Peek()) != std::string_view::npos && Peek() != '\0' &&
               Peek(1) == '=') {
      op = std::string{Peek(), '='};
    } else {
      return Unexpected();
    }
    pos_ += op.size();
    SkipSpace();
    std::string value;
    if (Peek() == '"' || Peek() == '\'') {
      if (!ReadString(&value)) return false;
    } else if (!ReadBareValue(&value)) {
      return false;
    }
    bool space = SkipSpace();
    bool ignore_case = false;
    const char flag = static_cast<char>(Peek() | 0x20);
    if (space && (flag == 'i' || flag == 's') && (Peek(1) == ']' || IsMarkupSpace(Peek(1)))) {
      ignore_case = flag == 'i';
      ++pos_;
      SkipSpace();
    }
    if (Peek() != ']') return Unexpected();
    ++pos_;
    compound->conditions.push_back(AttributeCondition(ref, op, value, ignore_case));
    return true;
  }

  // ':' name, or ':' name '(' argument ')'. `type` is what *-of-type counts.
  bool ParsePseudo(Compound* compound, bool in_not, const std::string& type) {
    const std::size_t at = pos_++;
    if (Peek() == ':') {
      ++pos_;
      std::string name;
      if (AtNameStart() && !ReadIdent(&name)) return false;
      return FailAt("pseudo-elements ('::" + Printable(name) + "') are not supported", at);
    }
    if (!AtNameStart()) return Unexpected();
    std::string name;
    if (!ReadIdent(&name)) return false;
    name = AsciiLower(std::move(name));
    auto& conditions = compound->conditions;
    const bool of_type = name.ends_with("-of-type");
    if (of_type && type.empty()) {
      return FailAt("':" + Printable(name) + "' needs an element type (as in 'li:" +
                        Printable(name) + (Peek() == '(' ? "(2)" : "") + "')",
                    at);
    }
    const std::string preceding = "preceding-sibling::" + (of_type ? NameTest(type) : "*");
    const std::string following = "following-sibling::" + (of_type ? NameTest(type) : "*");

    if (Peek() == '(') {
      ++pos_;
      if (name == "not") {
        if (in_not) return FailAt("nested :not() is not supported", at);
        std::vector<std::string> alternatives;
        while (true) {
          SkipSpace();
          Compound inner;
          if (!ParseCompound(&inner, true, type)) return false;
          alternatives.push_back(AsCondition(inner));
          SkipSpace();
          if (Peek() != ',') break;
          ++pos_;
        }
        if (Peek() != ')') return Unexpected();
        ++pos_;
        if (alternatives.size() == 1) {
          conditions.push_back("not(" + alternatives[0] + ")");
        } else {
          conditions.push_back("not((" + Join(alternatives, ") or (") + "))");
        }
        return true;
      }
      if (name == "nth-child" || name == "nth-last-child" || name == "nth-of-type" ||
          name == "nth-last-of-type") {
        const std::size_t close = s_.find(')', pos_);
        if (close == std::string_view::npos) {
          pos_ = s_.size();
          return Unexpected();
        }
        const std::string_view argument = s_.substr(pos_, close - pos_);
        Nth nth;
        if (!ParseNth(argument, &nth)) {
          return FailAt("bad argument '" + Printable(argument) + "' to :" + name + "()", pos_);
        }
        pos_ = close + 1;
        compound->nths.push_back(
            {nth, name.starts_with("nth-last-"), of_type ? type : std::string()});
        return true;
      }
      return FailAt("unsupported pseudo-class ':" + Printable(name) + "()'", at);
    }

    if (name == "first-child" || name == "first-of-type") {
      conditions.push_back("not(" + preceding + ")");
    } else if (name == "last-child" || name == "last-of-type") {
      conditions.push_back("not(" + following + ")");
    } else if (name == "only-child" || name == "only-of-type") {
      conditions.push_back("not(" + preceding + ")");
      conditions.push_back("not(" + following + ")");
    } else if (name == "empty") {
      conditions.push_back("not(node())");
    } else if (name == "root") {
      conditions.push_back("not(parent::*)");
    } else {
      return FailAt("unsupported pseudo-class ':" + Printable(name) + "'", at);
    }
    return true;
  }

  std::string_view s_;
  bool relative_;
  std::size_t pos_ = 0;
  std::string error_;
};

// Empty when pugixml compiles `xpath` to a node-set query; otherwise why not.
std::string XPathProblem(const std::string& xpath) {
  if (xpath.find('\0') != std::string::npos) return "NUL in XPath";
#ifndef PUGIXML_NO_EXCEPTIONS
  try {
#endif
    pugi::xpath_query query(xpath.c_str());
    if (!query.result()) {
      return std::string(query.result().description()) + " at offset " +
             std::to_string(query.result().offset + 1);
    }
    if (query.return_type() != pugi::xpath_type_node_set) return "it does not select elements";
    return {};
#ifndef PUGIXML_NO_EXCEPTIONS
  } catch (const pugi::xpath_exception& e) {
    return std::string(e.result().description()) + " at offset " +
           std::to_string(e.result().offset + 1);
  }
#endif
}

}  // namespace

XPathOrError CssToXPath(std::string_view selector, bool relative) {
  if (selector.size() > kMaxSelectorBytes) {
    return {.error = "selector longer than " + std::to_string(kMaxSelectorBytes) + " bytes"};
  }
  std::string_view trimmed = selector;
  while (!trimmed.empty() && IsMarkupSpace(trimmed.front())) trimmed.remove_prefix(1);
  if (trimmed.starts_with(kXPathPrefix)) {
    trimmed.remove_prefix(kXPathPrefix.size());
    while (!trimmed.empty() && IsMarkupSpace(trimmed.back())) trimmed.remove_suffix(1);
    std::string xpath(trimmed);
    if (xpath.empty()) return {.error = "empty XPath after 'xpath:'"};
    if (auto problem = XPathProblem(xpath); !problem.empty()) {
      return {.error = "bad XPath '" + Printable(xpath) + "': " + problem};
    }
    return {.xpath = std::move(xpath)};
  }

  Translator translator(selector, relative);
  std::string xpath;
  if (!translator.Translate(&xpath)) return {.error = translator.error()};
  // The translation is meant to always compile; this catches a bug before a page does.
  if (auto problem = XPathProblem(xpath); !problem.empty()) {
    return {.error = "selector '" + Printable(selector) + "' gave XPath '" + Printable(xpath) +
                     "' that does not compile: " + problem};
  }
  return {.xpath = std::move(xpath)};
}

}  // namespace newsmon::parse
