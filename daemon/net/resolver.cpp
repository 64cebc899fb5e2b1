// c-ares driven by Asio. c-ares owns its sockets and tells us (sock_state_cb) which of them
// to watch for reading or writing; each is wrapped in a posix::stream_descriptor that only
// waits (never reads, never closes), and readiness is handed back with ares_process_fd. One
// steady_timer follows ares_timeout() for c-ares's own retries. Every lookup has its own
// deadline timer on which its coroutine waits; the c-ares callback cancels that timer to
// wake it early. The callback owns a shared_ptr to the lookup's state, so a lookup whose
// coroutine has already given up (deadline passed) is still safe to complete later, and
// ares_destroy (ARES_EDESTRUCTION) completes pending lookups when the Resolver goes away.
#include "daemon/net/resolver.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <ares.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace newsmon::net {
namespace {

namespace asio = boost::asio;
namespace ip = asio::ip;

void InitCaresOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    int status = ares_library_init(ARES_LIB_INIT_ALL);
    if (status != ARES_SUCCESS) {
      throw std::runtime_error(std::string("c-ares initialisation failed: ") +
                               ares_strerror(status));
    }
  });
}

// One lookup. Shared by its coroutine and the c-ares callback; whichever finishes last
// frees it.
struct Lookup {
  Lookup(asio::any_io_executor executor, std::string host)
      : host(std::move(host)), wake(std::move(executor)) {}
  std::string host;
  asio::steady_timer wake;              // expires at the deadline; cancelled on an answer
  std::optional<ResolveResult> result;  // set by the c-ares callback
};

std::string Failure(const std::string& host, std::string_view why) {
  return "cannot resolve " + host + ": " + std::string(why);
}

void OnAddrInfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* info) {
  std::unique_ptr<std::shared_ptr<Lookup>> owner(static_cast<std::shared_ptr<Lookup>*>(arg));
  Lookup& lookup = **owner;
  ResolveResult result;
  if (status == ARES_SUCCESS && info != nullptr) {
    for (const ares_addrinfo_node* node = info->nodes; node != nullptr; node = node->ai_next) {
      ip::address address;
      if (node->ai_family == AF_INET && node->ai_addrlen >= sizeof(sockaddr_in)) {
        sockaddr_in in{};
        std::memcpy(&in, node->ai_addr, sizeof in);
        ip::address_v4::bytes_type bytes;
        std::memcpy(bytes.data(), &in.sin_addr, bytes.size());
        address = ip::address_v4(bytes);
      } else if (node->ai_family == AF_INET6 && node->ai_addrlen >= sizeof(sockaddr_in6)) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, node->ai_addr, sizeof in6);
        ip::address_v6::bytes_type bytes;
        std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
        address = ip::address_v6(bytes, in6.sin6_scope_id);
      } else {
        continue;
      }
      // A name listed twice in /etc/hosts, or once per socket type, comes back twice.
      if (std::find(result.addresses.begin(), result.addresses.end(), address) ==
          result.addresses.end()) {
        result.addresses.push_back(address);
      }
    }
  }
  if (info != nullptr) ares_freeaddrinfo(info);
  if (result.addresses.empty()) {
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
      result.error = Failure(lookup.host, "the resolver was shut down");
    } else if (status == ARES_SUCCESS) {
      result.error = Failure(lookup.host, "no addresses");
    } else {
      result.error = Failure(lookup.host, ares_strerror(status));
    }
  }
  lookup.result = std::move(result);
  lookup.wake.cancel();  // posts the coroutine's resumption; never runs it here
}

// The c-ares channel and the Asio objects that drive it. Handlers hold a weak_ptr to it,
// so those still queued when the Resolver is destroyed find it gone and do nothing.
class Channel : public std::enable_shared_from_this<Channel> {
 public:
  Channel(asio::any_io_executor executor, const ResolverOptions& options)
      : executor_(executor), timer_(executor) {
    InitCaresOnce();
    ares_options ares{};
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    ares.sock_state_cb = &Channel::OnSocketState;
    ares.sock_state_cb_data = this;
    ares.timeout = static_cast<int>(std::max<std::int64_t>(options.attempt_timeout.count(), 1));
    ares.tries = std::max(options.tries, 1);
    if (!options.servers.empty()) {
      ares.flags = ARES_FLAG_NOSEARCH;
      mask |= ARES_OPT_FLAGS;
    }
    int status = ares_init_options(&channel_, &ares, mask);
    if (status != ARES_SUCCESS) {
      throw std::runtime_error(std::string("cannot start the DNS resolver: ") +
                               ares_strerror(status));
    }
    if (!options.servers.empty()) {
      std::string csv;
      for (const std::string& server : options.servers) {
        if (!csv.empty()) csv += ',';
        csv += server;
      }
      status = ares_set_servers_ports_csv(channel_, csv.c_str());
      if (status != ARES_SUCCESS) {
        ares_destroy(channel_);
        channel_ = nullptr;
        throw std::invalid_argument("bad DNS server list '" + csv + "': " + ares_strerror(status));
      }
    }
  }

  ~Channel() { Shutdown(); }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Completes every pending lookup with ARES_EDESTRUCTION and stops watching.
  void Shutdown() {
    if (channel_ == nullptr) return;
    ares_channel channel = std::exchange(channel_, nullptr);
    ares_destroy(channel);  // closes its sockets, telling OnSocketState first
    for (auto& [fd, watch] : watches_) Unwatch(*watch);
    watches_.clear();
    timer_.cancel();
  }

  void Start(const std::shared_ptr<Lookup>& lookup) {
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    auto* owner = new std::shared_ptr<Lookup>(lookup);  // freed by OnAddrInfo
    if (channel_ == nullptr) return OnAddrInfo(owner, ARES_EDESTRUCTION, 0, nullptr);
    ares_getaddrinfo(channel_, lookup->host.c_str(), nullptr, &hints, &OnAddrInfo, owner);
    ScheduleTimeouts();
  }

  const asio::any_io_executor& executor() const { return executor_; }

 private:
  struct Watch {
    Watch(const asio::any_io_executor& executor, ares_socket_t fd) : fd(fd), descriptor(executor) {}
    ares_socket_t fd;
    asio::posix::stream_descriptor descriptor;  // borrowed fd: released, never closed
    bool want_read = false;
    bool want_write = false;
    bool read_pending = false;  // an async_wait is outstanding
    bool write_pending = false;
    bool closed = false;  // c-ares closed the socket; the fd number may be reused
  };

  static void OnSocketState(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<Channel*>(data)->SocketState(fd, readable != 0, writable != 0);
  }

  void SocketState(ares_socket_t fd, bool readable, bool writable) {
    auto it = watches_.find(fd);
    if (!readable && !writable) {
      if (it != watches_.end()) {
        Unwatch(*it->second);
        watches_.erase(it);
      }
      return;
    }
    if (it == watches_.end()) {
      auto watch = std::make_shared<Watch>(executor_, fd);
      boost::system::error_code ec;
      watch->descriptor.assign(fd, ec);
      // Not watchable: c-ares's timeout still ends the lookups that use this socket.
      if (ec) return;
      it = watches_.emplace(fd, std::move(watch)).first;
    }
    std::shared_ptr<Watch> watch = it->second;
    watch->want_read = readable;
    watch->want_write = writable;
    Arm(watch);
  }

  static void Unwatch(Watch& watch) {
    watch.closed = true;
    boost::system::error_code ignored;
    watch.descriptor.cancel(ignored);
    (void)watch.descriptor.release();  // c-ares closes the fd
  }

  void Arm(const std::shared_ptr<Watch>& watch) {
    if (watch->closed) return;
    if (watch->want_read && !watch->read_pending) {
      watch->read_pending = true;
      watch->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                   [weak = weak_from_this(), watch](boost::system::error_code ec) {
                                     watch->read_pending = false;
                                     auto self = weak.lock();
                                     if (!self || watch->closed || ec || !watch->want_read) return;
                                     self->Process(watch->fd, ARES_SOCKET_BAD);
                                     self->Arm(watch);
                                   });
    }
    if (watch->want_write && !watch->write_pending) {
      watch->write_pending = true;
      watch->descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                                   [weak = weak_from_this(), watch](boost::system::error_code ec) {
                                     watch->write_pending = false;
                                     auto self = weak.lock();
                                     if (!self || watch->closed || ec || !watch->want_write) return;
                                     self->Process(ARES_SOCKET_BAD, watch->fd);
                                     self->Arm(watch);
                                   });
    }
  }

  // Lets c-ares read, write or (with both BAD) handle its timeouts; it may call
  // OnSocketState and OnAddrInfo from inside.
  void Process(ares_socket_t read_fd, ares_socket_t write_fd) {
    if (channel_ == nullptr) return;
    ares_process_fd(channel_, read_fd, write_fd);
    ScheduleTimeouts();
  }

  // Points timer_ at c-ares's next retry or give-up time; idle when nothing is pending.
  void ScheduleTimeouts() {
    if (channel_ == nullptr) return;
    timeval tv{};
    if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
      timer_.cancel();
      return;
    }
    timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->Process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    });
  }

  asio::any_io_executor executor_;
  ares_channel channel_ = nullptr;
  asio::steady_timer timer_;                                           // c-ares's own timeouts
  std::unordered_map<ares_socket_t, std::shared_ptr<Watch>> watches_;  // by fd
};

class CaresResolver final : public Resolver {
 public:
  CaresResolver(asio::any_io_executor executor, const ResolverOptions& options)
      : channel_(std::make_shared<Channel>(std::move(executor), options)) {}
  ~CaresResolver() override { channel_->Shutdown(); }

  asio::awaitable<ResolveResult> Resolve(std::string host,
                                         std::chrono::milliseconds timeout) override {
    std::string_view name = host;
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
      name = name.substr(1, name.size() - 2);
    }
    boost::system::error_code ec;
    ip::address literal = ip::make_address(std::string(name), ec);
    if (!ec) co_return ResolveResult{.addresses = {literal}};
    if (name.empty()) co_return ResolveResult{.error = "cannot resolve an empty host name"};

    auto lookup = std::make_shared<Lookup>(channel_->executor(), std::string(name));
    lookup->wake.expires_after(timeout);
    if (timeout.count() > 0) channel_->Start(lookup);
    // From here on only `lookup` is touched: the Resolver may be gone when we resume.
    if (!lookup->result) {
      co_await lookup->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (lookup->result) co_return std::move(*lookup->result);
    if (ec == asio::error::operation_aborted) {
      // Cancelled by the awaiting coroutine (e.g. a parallel group), not by an answer.
      co_return ResolveResult{.error = Failure(lookup->host, "the lookup was cancelled")};
    }
    co_return ResolveResult{
        .error =
            Failure(lookup->host, "no answer within " + std::to_string(timeout.count()) + " ms"),
        .timed_out = true};
  }

 private:
  std::shared_ptr<Channel> channel_;
};

}  // namespace

std::unique_ptr<Resolver> MakeResolver(asio::any_io_executor executor,
                                       const ResolverOptions& options) {
  return std::make_unique<CaresResolver>(std::move(executor), options);
}

}  // namespace newsmon::net
