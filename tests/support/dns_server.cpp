#include "tests/support/dns_server.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace newsmon::test {
namespace {

constexpr int kTypeA = 1;
constexpr int kTypeAaaa = 28;
constexpr int kClassIn = 1;
constexpr int kNxDomain = 3;
constexpr int kNotImplemented = 4;

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::system_error SystemError(const char* what) {
  return std::system_error(errno, std::generic_category(), what);
}

void Put16(std::string& out, unsigned value) {
  out += static_cast<char>((value >> 8) & 0xff);
  out += static_cast<char>(value & 0xff);
}

unsigned Get16(const std::string& in, std::size_t at) {
  return (static_cast<unsigned char>(in[at]) << 8) | static_cast<unsigned char>(in[at + 1]);
}

}  // namespace

DnsServer::DnsServer(Records records, Mode mode, std::vector<std::string> never_answer)
    : mode_(mode) {
  for (std::string& name : never_answer) never_answer_.insert(Lower(std::move(name)));
  for (const auto& [name, addresses] : records) {
    Addresses& entry = names_[Lower(name)];
    for (const std::string& text : addresses) {
      std::array<unsigned char, 4> v4;
      std::array<unsigned char, 16> v6;
      if (inet_pton(AF_INET, text.c_str(), v4.data()) == 1) {
        entry.v4.push_back(v4);
      } else if (inet_pton(AF_INET6, text.c_str(), v6.data()) == 1) {
        entry.v6.push_back(v6);
      } else {
        throw std::invalid_argument("DnsServer: not an IP address: " + text);
      }
    }
  }

  socket_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (socket_ < 0) throw SystemError("DnsServer: socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(socket_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    auto error = SystemError("DnsServer: bind");
    ::close(socket_);
    throw error;
  }
  port_ = ntohs(address.sin_port);
  wake_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_ < 0) {
    auto error = SystemError("DnsServer: eventfd");
    ::close(socket_);
    throw error;
  }
  thread_ = std::thread([this] { Serve(); });
}

DnsServer::~DnsServer() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(wake_, &one, sizeof one);
  thread_.join();
  ::close(wake_);
  ::close(socket_);
}

std::string DnsServer::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::vector<std::string> DnsServer::questions() const {
  std::lock_guard lock(mutex_);
  return questions_;
}

void DnsServer::Serve() {
  pollfd fds[2] = {{.fd = socket_, .events = POLLIN, .revents = 0},
                   {.fd = wake_, .events = POLLIN, .revents = 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    for (;;) {  // drain every datagram that is waiting
      char buffer[1500];
      sockaddr_in peer{};
      socklen_t peer_length = sizeof peer;
      ssize_t n = ::recvfrom(socket_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&peer),
                             &peer_length);
      if (n < 0) break;  // EAGAIN: wait for more
      ++queries_;
      std::string response = Answer(std::string(buffer, static_cast<std::size_t>(n)));
      if (!response.empty()) {
        ::sendto(socket_, response.data(), response.size(), 0, reinterpret_cast<sockaddr*>(&peer),
                 peer_length);
      }
    }
  }
}

std::string DnsServer::Answer(const std::string& query) {
  // Header (12 bytes), then one question: labels, a zero byte, type and class.
  if (query.size() < 12 || (query[2] & 0x80) != 0 || Get16(query, 4) != 1) return "";
  std::string name;
  std::size_t at = 12;
  for (;;) {
    if (at >= query.size()) return "";
    auto length = static_cast<unsigned char>(query[at++]);
    if (length == 0) break;
    if (length > 63 || at + length > query.size()) return "";  // compression is not expected
    if (!name.empty()) name += '.';
    name.append(query, at, length);
    at += length;
  }
  if (at + 4 > query.size()) return "";
  name = Lower(name);
  unsigned type = Get16(query, at);
  unsigned klass = Get16(query, at + 2);
  std::size_t question_end = at + 4;
  {
    std::lock_guard lock(mutex_);
    std::string type_name = type == kTypeA      ? "A"
                            : type == kTypeAaaa ? "AAAA"
                                                : "TYPE" + std::to_string(type);
    questions_.push_back(type_name + " " + name);
  }
  if (mode_ == Mode::kSilent || never_answer_.contains(name)) return "";

  int rcode = 0;
  std::vector<std::string> rdata;
  int opcode = (query[2] >> 3) & 0x0f;
  auto found = names_.find(name);
  if (opcode != 0) {
    rcode = kNotImplemented;
  } else if (found == names_.end()) {
    rcode = kNxDomain;
  } else if (klass == kClassIn && type == kTypeA) {
    for (const auto& v4 : found->second.v4) rdata.emplace_back(v4.begin(), v4.end());
  } else if (klass == kClassIn && type == kTypeAaaa) {
    for (const auto& v6 : found->second.v6) rdata.emplace_back(v6.begin(), v6.end());
  }

  std::string response = query.substr(0, 2);  // id
  // QR, the query's opcode and RD, AA; then RA and the rcode.
  response += static_cast<char>(0x80 | (query[2] & 0x79) | 0x04);
  response += static_cast<char>(0x80 | rcode);
  Put16(response, 1);
  Put16(response, static_cast<unsigned>(rdata.size()));
  Put16(response, 0);
  Put16(response, 0);
  response.append(query, 12, question_end - 12);
  for (const std::string& data : rdata) {
    Put16(response, 0xc00c);  // the name: a pointer to the question's
    Put16(response, type);
    Put16(response, kClassIn);
    Put16(response, 0);  // TTL 60 s, high half
    Put16(response, 60);
    Put16(response, static_cast<unsigned>(data.size()));
    response += data;
  }
  return response;
}

}  // namespace newsmon::test
