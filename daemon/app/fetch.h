// `newsmon fetch`: fetch (or read) one source, parse it and print its items (a dry run:
// nothing is sent and no state is written).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "daemon/core/source.h"

namespace newsmon::app {

struct FetchRequest {
  std::string target;                      // a file path, or a source name with config_file
  std::optional<std::string> config_file;  // read the source (and its selectors) from here
  std::optional<std::string> input;        // with config_file: the file to read instead of the URL
  core::SourceKind kind = core::SourceKind::kAuto;  // bare path only; never kHtml
  bool json = false;                                // one JSON object per item and line
  bool allow_private_networks = false;  // bare URL: may reach loopback/private addresses
};

// Runs the request, printing items to `out` and problems to `err`; returns an exit code.
int Fetch(const FetchRequest& request, std::ostream& out, std::ostream& err);

}  // namespace newsmon::app
