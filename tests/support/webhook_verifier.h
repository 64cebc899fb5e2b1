// The receiving end of a signed webhook, written from the Standard Webhooks specification
// (https://www.standardwebhooks.com/) with OpenSSL's EVP_MAC and streaming base64 decoder,
// independently of daemon/alert: the tests check alert's signatures against it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace newsmon::test {

struct WebhookCheck {
  bool ok = false;
  std::string why;  // when not ok: what did not verify
};

// Verifies a delivery as a receiver would: `secret` is "whsec_<base64 key>", `signatures`
// the webhook-signature header (space-separated "v1,<base64>" entries, any one may match),
// and the timestamp must be within `tolerance_seconds` of `now_seconds`. Signatures are
// compared in constant time.
WebhookCheck VerifyWebhook(std::string_view secret, std::string_view id, std::string_view timestamp,
                           std::string_view body, std::string_view signatures,
                           std::int64_t now_seconds, std::int64_t tolerance_seconds = 300);

}  // namespace newsmon::test
