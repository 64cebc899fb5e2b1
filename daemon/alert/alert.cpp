// The text helpers every sink shares: UTF-8-safe truncation, the redacted form of a URL and
// the log sink's line. Payloads live in payloads.cpp, signing in signing.cpp, sending and
// classifying in send.cpp.
#include "daemon/alert/alert.h"

#include <cctype>
#include <string>
#include <string_view>

namespace newsmon::alert {
namespace {

constexpr char32_t kReplacement = 0xFFFD;
constexpr std::string_view kEllipsis = "\u2026";  // 3 bytes, 1 UTF-16 unit

struct CodePoint {
  char32_t value;
  std::size_t length;  // bytes consumed, >= 1
};

// The code point at `text[i]`. Invalid input (a stray continuation byte, an overlong form,
// a surrogate, past U+10FFFF, a truncated sequence) reads as U+FFFD consuming its maximal
// valid prefix (at least one byte), the Unicode "substitution of maximal subparts" practice.
CodePoint DecodeAt(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return {lead, 1};
  std::size_t length = 0;
  char32_t value = 0;
  unsigned char low = 0x80;  // allowed range of the second byte
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    value = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;   // no overlongs
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    value = lead & 0x07;
    if (lead == 0xF0) low = 0x90;   // no overlongs
    if (lead == 0xF4) high = 0x8F;  // nothing past U+10FFFF
  } else {
    return {kReplacement, 1};
  }
  for (std::size_t k = 1; k < length; ++k) {
    if (i + k >= text.size()) return {kReplacement, k};
    const unsigned char c = byte(i + k);
    const unsigned char lo = k == 1 ? low : 0x80;
    const unsigned char hi = k == 1 ? high : 0xBF;
    if (c < lo || c > hi) return {kReplacement, k};
    value = (value << 6) | (c & 0x3F);
  }
  return {value, length};
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::size_t Utf16Units(char32_t cp) { return cp >= 0x10000 ? 2 : 1; }

std::size_t Utf8Bytes(char32_t cp) {
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  return cp < 0x10000 ? 3 : 4;
}

// One pass: copies `text` as valid UTF-8 while its cost (by `cost_of` per code point) fits
// in `max`; on overflow cuts back to the last point where the ellipsis still fits and
// appends it. When even the ellipsis does not fit, the longest prefix that fits, bare.
template <typename CostOf>
std::string Truncate(std::string_view text, std::size_t max, CostOf cost_of) {
  const std::size_t ellipsis_cost = cost_of(U'\u2026');
  std::string out;
  out.reserve(text.size() < max ? text.size() : max);
  std::size_t used = 0;
  std::size_t cut = 0;  // out.size() where the ellipsis would still fit
  for (std::size_t i = 0; i < text.size();) {
    const CodePoint cp = DecodeAt(text, i);
    const std::size_t cost = cost_of(cp.value);
    if (used + cost > max) {
      if (ellipsis_cost > max) return out;
      out.resize(cut);
      out += kEllipsis;
      return out;
    }
    AppendUtf8(out, cp.value);
    used += cost;
    if (used + ellipsis_cost <= max) cut = out.size();
    i += cp.length;
  }
  return out;
}

}  // namespace

std::string TruncateUtf16(std::string_view text, std::size_t max_units) {
  return Truncate(text, max_units, Utf16Units);
}

std::string TruncateBytes(std::string_view text, std::size_t max_bytes) {
  return Truncate(text, max_bytes, Utf8Bytes);
}

std::string RedactedUrl(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return "";
  std::string out;
  for (char c : url.substr(0, scheme_end)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return "";
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  out += "://";
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  // Credentials never leave: only what follows the last '@'.
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  for (char c : authority) {
    // A host and port are printable ASCII; anything else would be a smuggled path.
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F) break;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string LogLine(const core::Alert& alert) {
  std::string rules;
  for (const auto& hit : alert.rules) {
    if (!rules.empty()) rules += ", ";
    rules += hit.rule;
  }
  std::string line = alert.test ? "test alert [" : "alert [";
  line += rules;
  line += "] (";
  line += core::NameOf<core::RuleSeverity>(core::kRuleSeverityNames, core::MaxSeverity(alert));
  line += ") source ";
  line += alert.source;
  line += ": ";
  line += alert.item.title;
  if (alert.item.link && !alert.item.link->empty()) {
    line += " \u2014 ";
    line += *alert.item.link;
  }
  line += " (delivery ";
  line += alert.delivery_id;
  line += ")";
  // One line of valid UTF-8, whatever the feed put in its fields.
  std::string clean = TruncateBytes(line, std::string::npos);
  for (char& c : clean) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return clean;
}

}  // namespace newsmon::alert
