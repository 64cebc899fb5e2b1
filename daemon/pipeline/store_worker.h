// The store on a thread of its own, so SQLite's fsyncs never block the network loop.
//
// Coroutines on any executor hand work to the store's thread and resume on their own
// executor when it is done. Poll commits are group-committed: the polls that finish while
// a transaction is being written go into the next one together, so a burst of polls costs a
// few fsyncs, not one each.
//
// Thread-safety: Run and Commit may be called from any thread; the Store itself is only
// ever touched on the worker's thread. Store errors (StoreError) propagate to the awaiting
// coroutine.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>

#include "daemon/store/store.h"

namespace newsmon::pipeline {

class StoreWorker {
 public:
  explicit StoreWorker(std::unique_ptr<store::Store> store);
  ~StoreWorker();  // waits for work in progress
  StoreWorker(const StoreWorker&) = delete;
  StoreWorker& operator=(const StoreWorker&) = delete;

  // Runs `fn(store)` on the store's thread and returns its result.
  template <typename Fn>
  auto Run(Fn fn) -> boost::asio::awaitable<std::invoke_result_t<Fn, store::Store&>> {
    using Result = std::invoke_result_t<Fn, store::Store&>;
    return boost::asio::co_spawn(
        thread_.get_executor(),
        [this, fn = std::move(fn)]() mutable -> boost::asio::awaitable<Result> {
          if constexpr (std::is_void_v<Result>) {
            fn(*store_);
            co_return;
          } else {
            co_return fn(*store_);
          }
        },
        boost::asio::use_awaitable);
  }

  // Commits one poll, batched with whatever else is waiting.
  boost::asio::awaitable<store::CommitResult> Commit(store::PollCommit commit);

  // How many transactions poll commits took, and how many polls they held (for the
  // group-commit figures).
  std::uint64_t transactions() const { return transactions_; }

 private:
  struct Pending {
    store::PollCommit commit;
    std::optional<store::CommitResult> result;
    std::exception_ptr error;
  };
  // On the store's thread: commits every queued poll in one transaction.
  void Drain();

  std::unique_ptr<store::Store> store_;
  std::mutex mutex_;  // guards queue_
  std::deque<std::shared_ptr<Pending>> queue_;
  std::atomic<std::uint64_t> transactions_{0};
  boost::asio::thread_pool thread_{1};
};

}  // namespace newsmon::pipeline
