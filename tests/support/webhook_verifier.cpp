#include "tests/support/webhook_verifier.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <charconv>
#include <memory>
#include <optional>
#include <vector>

namespace newsmon::test {
namespace {

using Bytes = std::vector<unsigned char>;

std::optional<Bytes> Base64Decode(std::string_view text) {
  std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> ctx(EVP_ENCODE_CTX_new(),
                                                                      EVP_ENCODE_CTX_free);
  EVP_DecodeInit(ctx.get());
  Bytes out(text.size() + 3);
  int written = 0;
  if (EVP_DecodeUpdate(ctx.get(), out.data(), &written,
                       reinterpret_cast<const unsigned char*>(text.data()),
                       static_cast<int>(text.size())) < 0) {
    return std::nullopt;
  }
  int tail = 0;
  if (EVP_DecodeFinal(ctx.get(), out.data() + written, &tail) < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(written + tail));
  return out;
}

std::optional<Bytes> HmacSha256(const Bytes& key, std::string_view data) {
  std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr),
                                                        EVP_MAC_free);
  if (!mac) return std::nullopt;
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(mac.get()),
                                                                EVP_MAC_CTX_free);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (!ctx || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
          1) {
    return std::nullopt;
  }
  Bytes out(EVP_MAX_MD_SIZE);
  std::size_t length = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) != 1) return std::nullopt;
  out.resize(length);
  return out;
}

}  // namespace

WebhookCheck VerifyWebhook(std::string_view secret, std::string_view id, std::string_view timestamp,
                           std::string_view body, std::string_view signatures,
                           std::int64_t now_seconds, std::int64_t tolerance_seconds) {
  constexpr std::string_view kPrefix = "whsec_";
  if (!secret.starts_with(kPrefix)) return {false, "secret without whsec_"};
  auto key = Base64Decode(secret.substr(kPrefix.size()));
  if (!key || key->empty()) return {false, "secret is not base64"};
  if (id.empty()) return {false, "no webhook-id"};

  std::int64_t sent = 0;
  auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), sent);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size()) {
    return {false, "webhook-timestamp is not an integer"};
  }
  if (sent < now_seconds - tolerance_seconds || sent > now_seconds + tolerance_seconds) {
    return {false, "webhook-timestamp outside the tolerance"};
  }

  std::string content(id);
  content += '.';
  content += timestamp;
  content += '.';
  content += body;
  auto expected = HmacSha256(*key, content);
  if (!expected) return {false, "HMAC failed"};

  // "v1,<sig> v1,<sig> v2,...": any v1 entry may match.
  std::size_t start = 0;
  while (start < signatures.size()) {
    std::size_t space = signatures.find(' ', start);
    if (space == std::string_view::npos) space = signatures.size();
    std::string_view entry = signatures.substr(start, space - start);
    start = space + 1;
    if (!entry.starts_with("v1,")) continue;
    auto given = Base64Decode(entry.substr(3));
    if (given && given->size() == expected->size() &&
        CRYPTO_memcmp(given->data(), expected->data(), expected->size()) == 0) {
      return {true, ""};
    }
  }
  return {false, "no matching v1 signature"};
}

}  // namespace newsmon::test
