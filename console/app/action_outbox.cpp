#include "app/action_outbox.h"

#include <GLFW/glfw3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace exam::app {

ActionOutbox::ActionOutbox(net::BackendClient& client, std::string fixed_path, bool temporary,
                           local::LocalData* local_data)
    : client_(client), fixed_path_(std::move(fixed_path)), temporary_(temporary), local_data_(local_data) {}

ActionOutbox::~ActionOutbox() { Close(); }

void ActionOutbox::Follow(const net::ConnectionStatus& status) {
  if (status.state != net::ConnectionState::kOnline || status.username.empty() || status.username == user_) return;
  Close();
  user_ = status.username;
  if (temporary_)
    path_ = (std::filesystem::temp_directory_path() /
             ("exam-console-demo-" + std::to_string(::getpid()) + "-" + user_ + ".sqlite")).string();
  else
    path_ = fixed_path_.empty() ? local::LocalStore::DefaultPath(user_, status.address) : fixed_path_;
  try {
    store_ = std::make_shared<local::LocalStore>(path_);
    outbox_ = std::make_shared<local::Outbox>(*store_);
    net::OutboxSenderOptions options;
    options.on_change = [this] {
      version_.fetch_add(1);
      glfwPostEmptyEvent();
    };
    sender_ = std::make_unique<net::OutboxSender>(*outbox_, client_, options);
    sender_->Start();
    if (local_data_ != nullptr) local_data_->SetOutbox(store_, outbox_);
    error_.clear();
    version_.fetch_add(1);
  } catch (const std::exception& e) {
    // Without a durable outbox no action may be sent; the console still shows everything.
    error_ = "local store " + path_ + ": " + e.what();
    std::fprintf(stderr, "exam-console: %s\n", error_.c_str());
    sender_.reset();
    outbox_.reset();
    store_.reset();
  }
}

void ActionOutbox::Close() {
  if (sender_) sender_->Stop();
  sender_.reset();
  if (local_data_ != nullptr) local_data_->SetOutbox(nullptr, nullptr);
  outbox_.reset();
  store_.reset();
  if (temporary_ && !path_.empty()) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix, ec);
  }
  user_.clear();
}

}  // namespace exam::app
