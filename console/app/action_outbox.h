#pragma once
// The outbox of the signed-in staff member: a local store per user and backend, its outbox
// and the sender that delivers it. Opened when a user is signed in and reopened when another
// one signs in, so one user's undelivered actions never go out under another's token.
#include <atomic>
#include <memory>
#include <string>

#include "net/backend_client.h"
#include "net/outbox_sender.h"
#include "store/local_data.h"
#include "store/local_store.h"
#include "store/outbox.h"

namespace exam::app {

class ActionOutbox {
 public:
  // `fixed_path`: use this file whatever the user (--store); `temporary`: a demo store,
  // deleted on close. Otherwise LocalStore::DefaultPath(user, backend).
  // `local_data`, when given, is told which store is open (for its survey and wipe).
  ActionOutbox(net::BackendClient& client, std::string fixed_path, bool temporary,
               local::LocalData* local_data = nullptr);
  ~ActionOutbox();  // Close()s

  // Call once per frame: opens, switches or keeps the store for the signed-in user.
  void Follow(const net::ConnectionStatus& status);
  void Close();

  local::Outbox* outbox() { return outbox_.get(); }
  // Grows with every state change of an action (read each frame).
  uint64_t version() const { return version_.load(); }
  // Why the store could not be opened; empty when fine.
  const std::string& error() const { return error_; }

 private:
  net::BackendClient& client_;
  std::string fixed_path_;
  bool temporary_;
  std::string user_;
  std::string path_;
  local::LocalData* local_data_;
  // Shared with a wipe that may still be running when another user signs in.
  std::shared_ptr<local::LocalStore> store_;
  std::shared_ptr<local::Outbox> outbox_;
  std::unique_ptr<net::OutboxSender> sender_;
  std::atomic<uint64_t> version_{0};
  std::string error_;
};

}  // namespace exam::app
