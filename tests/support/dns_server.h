// A tiny DNS server on 127.0.0.1 (UDP, ephemeral port) for resolver tests, running on its
// own thread until destroyed.
//
// It answers A and AAAA questions from a name → addresses map: NOERROR with the addresses of
// the asked family (none when the name has only the other family's), NXDOMAIN for names not
// in the map. Names match case-insensitively, without a trailing dot. In silent mode it
// reads and counts queries but never answers; names in `never_answer` get the same silence
// in answer mode (one hanging name beside answered ones). Thread-safe: the accessors may be
// called while it runs. Stops (and joins its thread) in the destructor.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace newsmon::test {

class DnsServer {
 public:
  // name → IPv4 and IPv6 addresses as text: {{"feed.test", {"192.0.2.1", "2001:db8::1"}}}.
  using Records = std::map<std::string, std::vector<std::string>>;
  enum class Mode { kAnswer, kSilent };

  // Throws std::runtime_error when the socket cannot be bound, std::invalid_argument for an
  // address that does not parse.
  explicit DnsServer(Records records, Mode mode = Mode::kAnswer,
                     std::vector<std::string> never_answer = {});
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "127.0.0.1:<port>", the form ResolverOptions::servers takes.
  std::string address() const;
  // Datagrams received so far (retries count again).
  int queries() const { return queries_.load(); }
  // Every question received, in order: "A feed.test", "AAAA feed.test", "TYPE15 x.test".
  std::vector<std::string> questions() const;

 private:
  void Serve();
  // The response to `query`, or "" to send nothing (malformed query, silent mode).
  std::string Answer(const std::string& query);

  struct Addresses {
    std::vector<std::array<unsigned char, 4>> v4;
    std::vector<std::array<unsigned char, 16>> v6;
  };
  std::map<std::string, Addresses> names_;  // keys lower-case; read-only once running
  std::set<std::string> never_answer_;      // lower-case; read-only once running
  Mode mode_;
  int socket_ = -1;
  int wake_ = -1;  // eventfd: written once to stop Serve
  std::uint16_t port_ = 0;
  std::atomic<int> queries_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> questions_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace newsmon::test
