// libFuzzer target: any bytes as a config file. The loader must return diagnostics, never
// crash, throw or hang. Includes and *_file keys resolve under a directory that does not
// exist, so the fuzzer reads no real files.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SET") return std::string("value");
    return std::nullopt;
  };
  auto result = newsmon::config::LoadConfigFromString(text, "/nonexistent/fuzz/newsmon.yaml", env);
  (void)result.ok();
  return 0;
}
