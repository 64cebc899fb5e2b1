// Standard Webhooks signatures (https://www.standardwebhooks.com/), through OpenSSL.
#include "daemon/alert/alert.h"

#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace newsmon::alert {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";

// Strict standard base64 with padding, into `out`; false on anything else or when empty.
bool DecodeBase64(std::string_view text, std::vector<unsigned char>& out) {
  if (text.empty() || text.size() % 4 != 0) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '/';
    // '=' only as the last one or two characters.
    const bool padding =
        c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text[i + 1] == '=');
    if (!alphabet && !padding) return false;
  }
  out.resize(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return false;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t length = static_cast<std::size_t>(n);
  if (text.ends_with("==")) {
    length -= 2;
  } else if (text.ends_with('=')) {
    length -= 1;
  }
  out.resize(length);
  return !out.empty();
}

std::string EncodeBase64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

std::string WebhookSignature(std::string_view secret, std::string_view id, std::int64_t timestamp,
                             std::string_view body) {
  if (!secret.starts_with(kSecretPrefix)) return "";
  std::vector<unsigned char> key;
  if (!DecodeBase64(secret.substr(kSecretPrefix.size()), key)) return "";

  std::string signed_content;
  signed_content.reserve(id.size() + body.size() + 24);
  signed_content.append(id);
  signed_content += '.';
  signed_content += std::to_string(timestamp);
  signed_content += '.';
  signed_content.append(body);

  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(signed_content.data()), signed_content.size(),
           mac, &mac_length) == nullptr) {
    return "";
  }
  return "v1," + EncodeBase64(mac, mac_length);
}

}  // namespace newsmon::alert
