// The c-ares resolver against a DNS server on 127.0.0.1: answers, errors, IP literals, the
// hosts file, deadlines, and that one hanging lookup never delays the others.
#include "daemon/net/resolver.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "tests/support/dns_server.h"

namespace newsmon::net {
namespace {

namespace asio = boost::asio;
using asio::ip::make_address;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using test::DnsServer;
using Records = DnsServer::Records;

// Longer than any test's lookups: c-ares itself never gives up first unless a test asks.
constexpr auto kLongAttempt = std::chrono::milliseconds(20000);
// How long a test may run at most before it is failed (never reached when all is well).
constexpr auto kGuard = std::chrono::seconds(20);

std::vector<asio::ip::address> Addresses(std::initializer_list<const char*> texts) {
  std::vector<asio::ip::address> out;
  for (const char* text : texts) out.push_back(make_address(text));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<asio::ip::address> Sorted(std::vector<asio::ip::address> addresses) {
  std::sort(addresses.begin(), addresses.end());
  return addresses;
}

class ResolverTest : public ::testing::Test {
 protected:
  std::unique_ptr<Resolver> ResolverFor(const DnsServer& server,
                                        std::chrono::milliseconds attempt = kLongAttempt,
                                        int tries = 2) {
    return MakeResolver(
        io_.get_executor(),
        {.servers = {server.address()}, .attempt_timeout = attempt, .tries = tries});
  }

  // Runs `resolver.Resolve(host, timeout)` to completion on io_.
  ResolveResult Resolve(Resolver& resolver, std::string host,
                        std::chrono::milliseconds timeout = 5s) {
    auto result = std::make_shared<std::optional<ResolveResult>>();  // may outlive a failure
    Spawn(resolver, std::move(host), timeout, [this, result](ResolveResult r) {
      *result = std::move(r);
      io_.stop();
    });
    RunUntilStopped();
    if (!*result) {
      ADD_FAILURE() << "the lookup did not finish within the guard time";
      return {};
    }
    return std::move(**result);
  }

  // Starts one lookup; `done` gets its result on io_'s thread.
  void Spawn(Resolver& resolver, std::string host, std::chrono::milliseconds timeout,
             std::function<void(ResolveResult)> done) {
    asio::co_spawn(io_, resolver.Resolve(std::move(host), timeout),
                   [done = std::move(done)](std::exception_ptr error, ResolveResult result) {
                     if (error) std::rethrow_exception(error);
                     done(std::move(result));
                   });
  }

  // Until a handler calls io_.stop() (the resolver keeps its sockets watched, so io_ never
  // runs out of work by itself), or the guard time passes.
  void RunUntilStopped() {
    io_.restart();
    io_.run_for(kGuard);
  }

  asio::io_context io_;  // declared first: outlives every resolver a test makes
};

TEST_F(ResolverTest, ResolvesIpv4AndIpv6) {
  DnsServer server(Records{{"feed.test", {"192.0.2.10", "2001:db8::10"}}});
  auto resolver = ResolverFor(server);
  ResolveResult result = Resolve(*resolver, "feed.test");
  EXPECT_EQ(result.error, "");
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(Sorted(result.addresses), Addresses({"192.0.2.10", "2001:db8::10"}));
  auto questions = server.questions();
  std::sort(questions.begin(), questions.end());
  EXPECT_EQ(questions, (std::vector<std::string>{"A feed.test", "AAAA feed.test"}));
}

TEST_F(ResolverTest, NameWithOneFamilyOnly) {
  DnsServer server(Records{{"v4.test", {"192.0.2.1", "192.0.2.2"}}, {"v6.test", {"2001:db8::5"}}});
  auto resolver = ResolverFor(server);
  ResolveResult v4 = Resolve(*resolver, "v4.test");
  EXPECT_EQ(v4.error, "");
  EXPECT_EQ(Sorted(v4.addresses), Addresses({"192.0.2.1", "192.0.2.2"}));
  ResolveResult v6 = Resolve(*resolver, "V6.Test");
  EXPECT_EQ(v6.error, "");
  EXPECT_EQ(v6.addresses, Addresses({"2001:db8::5"}));
}

TEST_F(ResolverTest, UnknownNameIsAClearError) {
  DnsServer server(Records{{"feed.test", {"192.0.2.10"}}});
  auto resolver = ResolverFor(server);
  ResolveResult result = Resolve(*resolver, "example.invalid");
  EXPECT_EQ(result.error, "cannot resolve example.invalid: Domain name not found");
  EXPECT_TRUE(result.addresses.empty());
  EXPECT_FALSE(result.timed_out);
  auto questions = server.questions();
  std::sort(questions.begin(), questions.end());
  EXPECT_EQ(questions, (std::vector<std::string>{"A example.invalid", "AAAA example.invalid"}));
}

TEST_F(ResolverTest, IpLiteralsResolveToThemselvesWithoutALookup) {
  DnsServer server(Records{{"feed.test", {"192.0.2.10"}}});
  auto resolver = ResolverFor(server);
  EXPECT_EQ(Resolve(*resolver, "192.0.2.7").addresses, Addresses({"192.0.2.7"}));
  EXPECT_EQ(Resolve(*resolver, "2001:db8::7").addresses, Addresses({"2001:db8::7"}));
  EXPECT_EQ(Resolve(*resolver, "[2001:db8::7]").addresses, Addresses({"2001:db8::7"}));
  EXPECT_EQ(Resolve(*resolver, "[::ffff:127.0.0.1]").addresses, Addresses({"::ffff:127.0.0.1"}));
  EXPECT_EQ(Resolve(*resolver, "127.0.0.1").error, "");
  EXPECT_EQ(server.queries(), 0);
}

TEST_F(ResolverTest, EmptyNameAndBadServerList) {
  DnsServer server(Records{});
  auto resolver = ResolverFor(server);
  EXPECT_EQ(Resolve(*resolver, "").error, "cannot resolve an empty host name");
  EXPECT_EQ(Resolve(*resolver, "[]").error, "cannot resolve an empty host name");
  EXPECT_THROW(MakeResolver(io_.get_executor(), {.servers = {"not a server"}}),
               std::invalid_argument);
}

TEST_F(ResolverTest, LocalhostComesFromTheHostsFile) {
  DnsServer silent(Records{}, DnsServer::Mode::kSilent);
  auto resolver = ResolverFor(silent);
  ResolveResult result = Resolve(*resolver, "localhost", 2s);
  EXPECT_EQ(result.error, "");
  EXPECT_FALSE(result.timed_out);
  EXPECT_NE(std::find(result.addresses.begin(), result.addresses.end(), make_address("127.0.0.1")),
            result.addresses.end());
  for (const auto& address : result.addresses) EXPECT_TRUE(address.is_loopback()) << address;
  EXPECT_EQ(silent.queries(), 0);
}

TEST_F(ResolverTest, SilentServerEndsTheLookupAtItsDeadline) {
  DnsServer silent(Records{}, DnsServer::Mode::kSilent);
  auto resolver = ResolverFor(silent);
  auto start = Clock::now();
  ResolveResult result = Resolve(*resolver, "slow.test", 300ms);
  auto elapsed = Clock::now() - start;
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.error, "cannot resolve slow.test: no answer within 300 ms");
  EXPECT_TRUE(result.addresses.empty());
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, kLongAttempt);  // the deadline ended it, not c-ares
}

TEST_F(ResolverTest, ZeroTimeoutEndsAtOnceWithoutAQuery) {
  DnsServer server(Records{{"feed.test", {"192.0.2.10"}}});
  auto resolver = ResolverFor(server);
  ResolveResult result = Resolve(*resolver, "feed.test", 0ms);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.error, "cannot resolve feed.test: no answer within 0 ms");
  EXPECT_EQ(server.queries(), 0);
}

// One resolver, one server that never answers hang.test and slow.test: the other lookups
// finish first, slow.test ends at its own 300 ms deadline while hang.test (5 s) is still
// pending, and destroying the resolver then ends hang.test at once.
TEST_F(ResolverTest, OneHangingLookupDoesNotDelayTheOthers) {
  DnsServer server(Records{{"feed.test", {"192.0.2.10"}}}, DnsServer::Mode::kAnswer,
                   {"hang.test", "slow.test"});
  auto resolver = ResolverFor(server);
  auto start = Clock::now();
  struct Finished {
    std::string host;
    ResolveResult result;
    Clock::duration at;
  };
  std::vector<Finished> finished;
  std::optional<bool> hang_pending_when_slow_ended;
  auto record = [&](std::string host) {
    return [&, host](ResolveResult result) {
      finished.push_back({host, std::move(result), Clock::now() - start});
      if (host == "slow.test") {
        hang_pending_when_slow_ended =
            std::none_of(finished.begin(), finished.end(),
                         [](const Finished& f) { return f.host == "hang.test"; });
        resolver.reset();  // completes hang.test with an error
      }
      if (finished.size() == 5) io_.stop();
    };
  };
  Spawn(*resolver, "hang.test", 5s, record("hang.test"));
  Spawn(*resolver, "slow.test", 300ms, record("slow.test"));
  Spawn(*resolver, "feed.test", 5s, record("feed.test"));
  Spawn(*resolver, "192.0.2.1", 5s, record("192.0.2.1"));
  Spawn(*resolver, "localhost", 5s, record("localhost"));
  RunUntilStopped();

  ASSERT_EQ(finished.size(), 5u);
  std::vector<std::string> order;
  for (const Finished& f : finished) order.push_back(f.host);
  // The first three finish in any order, before the deadline of the first hanging one.
  std::sort(order.begin(), order.begin() + 3);
  EXPECT_EQ(order, (std::vector<std::string>{"192.0.2.1", "feed.test", "localhost", "slow.test",
                                             "hang.test"}));
  for (const Finished& f : finished) {
    if (f.host == "feed.test") {
      EXPECT_EQ(f.result.addresses, Addresses({"192.0.2.10"}));
    }
    if (f.host == "192.0.2.1") {
      EXPECT_EQ(f.result.addresses, Addresses({"192.0.2.1"}));
    }
    if (f.host == "localhost") {
      EXPECT_FALSE(f.result.addresses.empty());
    }
    if (f.host == "slow.test") {
      EXPECT_TRUE(f.result.timed_out);
      EXPECT_EQ(f.result.error, "cannot resolve slow.test: no answer within 300 ms");
      EXPECT_GE(f.at, 300ms);
    }
    if (f.host == "hang.test") {
      EXPECT_FALSE(f.result.timed_out);
      EXPECT_EQ(f.result.error, "cannot resolve hang.test: the resolver was shut down");
      EXPECT_LT(f.at, 5s);  // ended by the shutdown, well before its own deadline
    }
  }
  EXPECT_EQ(hang_pending_when_slow_ended, true);
}

// The awaiting side may stop waiting (e.g. a parallel group whose other branch won).
TEST_F(ResolverTest, CancellationEndsTheLookup) {
  DnsServer server(Records{}, DnsServer::Mode::kAnswer, {"hang.test"});
  auto resolver = ResolverFor(server);
  asio::cancellation_signal cancel;
  std::optional<ResolveResult> result;
  asio::co_spawn(
      io_, resolver->Resolve("hang.test", 5s),
      asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr error, ResolveResult r) {
        if (error) std::rethrow_exception(error);
        result = std::move(r);
        io_.stop();
      }));
  asio::post(io_, [&] { cancel.emit(asio::cancellation_type::terminal); });
  auto start = Clock::now();
  RunUntilStopped();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->error, "cannot resolve hang.test: the lookup was cancelled");
  EXPECT_FALSE(result->timed_out);
  EXPECT_LT(Clock::now() - start, 5s);
}

// a.test gives up at its 50 ms deadline; c-ares's own 200 ms timeout fires later for both
// lookups, calling back into a.test's abandoned state and ending b.test with c-ares's error.
TEST_F(ResolverTest, LateCallbackAfterTheDeadlineIsHarmless) {
  DnsServer silent(Records{}, DnsServer::Mode::kSilent);
  auto resolver = ResolverFor(silent, 200ms, 1);
  std::vector<std::pair<std::string, ResolveResult>> finished;
  auto record = [&](std::string host) {
    return [&, host](ResolveResult result) {
      finished.emplace_back(host, std::move(result));
      if (finished.size() == 2) io_.stop();
    };
  };
  Spawn(*resolver, "a.test", 50ms, record("a.test"));
  Spawn(*resolver, "b.test", 5s, record("b.test"));
  RunUntilStopped();

  ASSERT_EQ(finished.size(), 2u);
  EXPECT_EQ(finished[0].first, "a.test");
  EXPECT_TRUE(finished[0].second.timed_out);
  EXPECT_EQ(finished[1].first, "b.test");
  EXPECT_FALSE(finished[1].second.timed_out);
  EXPECT_EQ(finished[1].second.error,
            "cannot resolve b.test: Timeout while contacting DNS servers");

  // The resolver still works afterwards.
  ResolveResult again = Resolve(*resolver, "127.0.0.2");
  EXPECT_EQ(again.addresses, Addresses({"127.0.0.2"}));
}

TEST_F(ResolverTest, ManyConcurrentLookups) {
  DnsServer::Records records;
  for (int i = 0; i < 50; ++i) {
    records["n" + std::to_string(i) + ".test"] = {"10.0.0." + std::to_string(i + 1)};
  }
  DnsServer server(records);
  auto resolver = ResolverFor(server);
  std::vector<std::optional<ResolveResult>> results(50);
  int done = 0;
  for (int i = 0; i < 50; ++i) {
    Spawn(*resolver, "n" + std::to_string(i) + ".test", 5s, [&, i](ResolveResult result) {
      results[i] = std::move(result);
      if (++done == 50) io_.stop();
    });
  }
  RunUntilStopped();
  ASSERT_EQ(done, 50);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(results[i]->addresses, Addresses({("10.0.0." + std::to_string(i + 1)).c_str()})) << i;
  }
}

}  // namespace
}  // namespace newsmon::net
