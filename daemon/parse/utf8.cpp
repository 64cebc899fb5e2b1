#include "daemon/parse/utf8.h"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace newsmon::parse {
namespace {

// Length of the valid sequence starting at `p`, or 0 when it is invalid (Unicode Table
// 3-7, well-formed UTF-8 byte sequences).
std::size_t SequenceLength(const unsigned char* p, const unsigned char* end) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  auto in = [&](std::size_t i, unsigned char lo, unsigned char hi) {
    return p + i < end && p[i] >= lo && p[i] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return in(1, 0x80, 0xBF) ? 2 : 0;
  if (c == 0xE0) return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c == 0xED) return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xF0) return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) {
    return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  }
  if (c == 0xF4) return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

// How many bytes of an invalid sequence at `p` form one "maximal subpart": the lead byte
// plus any continuation bytes that were still acceptable.
std::size_t InvalidLength(const unsigned char* p, const unsigned char* end) {
  std::size_t n = 1;
  unsigned char c = p[0];
  std::size_t want = c >= 0xF0 && c <= 0xF4   ? 4
                     : c >= 0xE0 && c <= 0xEF ? 3
                     : c >= 0xC2 && c <= 0xDF ? 2
                                              : 1;
  while (n < want && p + n < end) {
    unsigned char lo = 0x80, hi = 0xBF;
    if (n == 1) {
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    if (p[n] < lo || p[n] > hi) break;
    ++n;
  }
  return n;
}

}  // namespace

char* WriteUtf8(char32_t cp, char* out) {
  if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    for (char c : kReplacementChar) *out++ = c;
  } else if (cp < 0x80) {
    *out++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out++ = static_cast<char>(0xC0 | (cp >> 6));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out++ = static_cast<char>(0xE0 | (cp >> 12));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out++ = static_cast<char>(0xF0 | (cp >> 18));
    *out++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

void AppendUtf8(std::string& out, char32_t cp) {
  char bytes[4];
  out.append(bytes, static_cast<std::size_t>(WriteUtf8(cp, bytes) - bytes));
}

std::size_t ValidUtf8Prefix(std::string_view text) {
  auto* begin = reinterpret_cast<const unsigned char*>(text.data());
  auto* end = begin + text.size();
  auto* p = begin;
  while (p < end) {
    // ASCII runs dominate feeds: skip them 64 bytes at a time, then 16.
#if defined(__SSE2__)
    const auto load = [](const unsigned char* at) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    };
    while (end - p >= 64) {
      const __m128i any = _mm_or_si128(_mm_or_si128(load(p), load(p + 16)),
                                       _mm_or_si128(load(p + 32), load(p + 48)));
      if (_mm_movemask_epi8(any) != 0) break;
      p += 64;
    }
#endif
    while (end - p >= 16) {
      std::uint64_t words[2];
      std::memcpy(words, p, 16);
      if ((words[0] | words[1]) & 0x8080808080808080ULL) break;
      p += 16;
    }
    if (p == end) break;
    if (*p < 0x80) {
      ++p;
      continue;
    }
    // Two-byte sequences (Cyrillic, Latin accents) inline: the common non-ASCII case.
    if (*p >= 0xC2 && *p <= 0xDF && end - p >= 2 && (p[1] & 0xC0) == 0x80) {
      p += 2;
      continue;
    }
    std::size_t n = SequenceLength(p, end);
    if (n == 0) break;
    p += n;
  }
  return static_cast<std::size_t>(p - begin);
}

void RepairUtf8(std::string& text) {
  std::size_t valid = ValidUtf8Prefix(text);
  if (valid == text.size()) return;
  std::string out(text, 0, valid);
  out.reserve(text.size() + 16);
  auto* p = reinterpret_cast<const unsigned char*>(text.data()) + valid;
  auto* end = reinterpret_cast<const unsigned char*>(text.data()) + text.size();
  while (p < end) {
    std::size_t n = SequenceLength(p, end);
    if (n == 0) {
      out += kReplacementChar;
      p += InvalidLength(p, end);
    } else {
      out.append(reinterpret_cast<const char*>(p), n);
      p += n;
    }
  }
  text = std::move(out);
}

}  // namespace newsmon::parse
