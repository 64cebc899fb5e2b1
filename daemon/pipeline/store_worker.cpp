#include "daemon/pipeline/store_worker.h"

#include <vector>

namespace newsmon::pipeline {

namespace asio = boost::asio;

StoreWorker::StoreWorker(std::unique_ptr<store::Store> store) : store_(std::move(store)) {}

StoreWorker::~StoreWorker() { thread_.join(); }

asio::awaitable<store::CommitResult> StoreWorker::Commit(store::PollCommit commit) {
  auto pending = std::make_shared<Pending>();
  pending->commit = std::move(commit);
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(pending);
  }
  // The first job to run on the store's thread commits everything queued by then; later
  // jobs find their poll already committed. Each job runs after the previous one, so a
  // poll is always committed by its own job or an earlier one.
  // (Built before the co_await: g++ 12 mishandles temporaries with destructors, like this
  // lambda, inside a co_await expression.)
  auto job = asio::co_spawn(
      thread_.get_executor(),
      [this, pending]() -> asio::awaitable<void> {
        if (!pending->result && !pending->error) Drain();
        co_return;
      },
      asio::use_awaitable);
  co_await std::move(job);
  if (pending->error) std::rethrow_exception(pending->error);
  co_return std::move(*pending->result);
}

void StoreWorker::Drain() {
  std::vector<std::shared_ptr<Pending>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.assign(queue_.begin(), queue_.end());
    queue_.clear();
  }
  std::vector<store::PollCommit> commits;
  commits.reserve(batch.size());
  for (auto& pending : batch) commits.push_back(std::move(pending->commit));
  try {
    auto results = store_->CommitPolls(commits);
    ++transactions_;
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->result = std::move(results[i]);
  } catch (...) {
    for (auto& pending : batch) pending->error = std::current_exception();
  }
}

}  // namespace newsmon::pipeline
