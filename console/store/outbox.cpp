#include "store/outbox.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>

#include "store/local_store.h"

namespace exam::local {
namespace {

constexpr std::string_view kColumns =
    "id, idempotency_key, method, request, label, target, created_at, state, attempts, not_before, error_code, "
    "error_message, response, updated_at";

OutboxAction ReadAction(const Statement& st) {
  OutboxAction a;
  a.id = st.Int(0);
  a.idempotency_key = st.Text(1);
  a.method = st.Text(2);
  a.request = st.Blob(3);
  a.label = st.Text(4);
  a.target = st.Text(5);
  a.created_unix_ms = st.Int(6);
  a.state = static_cast<ActionState>(st.Int(7));
  a.attempts = static_cast<int>(st.Int(8));
  a.not_before_unix_ms = st.Int(9);
  a.error_code = static_cast<int>(st.Int(10));
  a.error_message = st.Text(11);
  a.response = st.Blob(12);
  a.updated_unix_ms = st.Int(13);
  return a;
}

std::vector<OutboxAction> ReadAll(Statement& st) {
  std::vector<OutboxAction> out;
  while (st.Step()) out.push_back(ReadAction(st));
  return out;
}

// 128 random bits as hex: unique across consoles without coordination.
std::string NewIdempotencyKey() {
  std::random_device rd;
  char buf[33];
  std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  return buf;
}

// "/exam.v1.AppealService/DecideAppeal" → its descriptor, or null.
const google::protobuf::MethodDescriptor* FindMethod(std::string_view method) {
  if (method.size() < 4 || method.front() != '/') return nullptr;
  const size_t slash = method.find('/', 1);
  if (slash == std::string_view::npos) return nullptr;
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(std::string(method.substr(1, slash - 1)));
  return service ? service->FindMethodByName(std::string(method.substr(slash + 1))) : nullptr;
}

// The request without its bytes fields (pictures), at any depth; the request unchanged
// when its method is unknown or it does not parse.
std::string WithoutBytesFields(std::string_view method, const std::string& request) {
  const auto* rpc = FindMethod(method);
  if (rpc == nullptr) return request;
  const auto* prototype = google::protobuf::MessageFactory::generated_factory()->GetPrototype(rpc->input_type());
  if (prototype == nullptr) return request;
  std::unique_ptr<google::protobuf::Message> message(prototype->New());
  if (!message->ParseFromString(request)) return request;
  bool changed = false;
  std::function<void(google::protobuf::Message*)> strip = [&](google::protobuf::Message* m) {
    const auto* reflection = m->GetReflection();
    std::vector<const google::protobuf::FieldDescriptor*> fields;
    reflection->ListFields(*m, &fields);
    for (const auto* f : fields) {
      if (f->type() == google::protobuf::FieldDescriptor::TYPE_BYTES) {
        reflection->ClearField(m, f);
        changed = true;
      } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
        if (f->is_repeated()) {
          for (int i = 0; i < reflection->FieldSize(*m, f); ++i) strip(reflection->MutableRepeatedMessage(m, f, i));
        } else {
          strip(reflection->MutableMessage(m, f));
        }
      }
    }
  };
  strip(message.get());
  std::string out;
  return changed && message->SerializeToString(&out) ? out : request;
}

}  // namespace

std::string_view ActionStateName(ActionState state) {
  switch (state) {
    case ActionState::kPending: return "pending";
    case ActionState::kSending: return "sending";
    case ActionState::kConfirmed: return "confirmed";
    case ActionState::kFailed: return "failed";
  }
  return "?";
}

int64_t UnixNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Outbox::Outbox(LocalStore& store, OutboxOptions options) : store_(store) {
  auto lock = store_.Lock();
  const int64_t now = UnixNowMs();
  auto recover = store_.Prepare("UPDATE outbox SET state = ?, not_before = 0, updated_at = ? WHERE state = ?");
  recover.Bind(1, static_cast<int>(ActionState::kPending))
      .Bind(2, now)
      .Bind(3, static_cast<int>(ActionState::kSending))
      .Run();
  PruneConfirmed(now - std::chrono::duration_cast<std::chrono::milliseconds>(options.keep_confirmed).count());
}

int64_t Outbox::Enqueue(std::string_view method, const google::protobuf::Message& request, std::string_view label,
                        std::string_view target) {
  const auto* descriptor = request.GetDescriptor();
  const auto* rpc = FindMethod(method);
  if (rpc == nullptr) throw std::invalid_argument("outbox: unknown gRPC method " + std::string(method));
  if (rpc->input_type() != descriptor)
    throw std::invalid_argument("outbox: " + std::string(method) + " takes " + rpc->input_type()->full_name() +
                                ", not " + descriptor->full_name());
  const auto* key_field = descriptor->FindFieldByName("idempotency_key");
  if (key_field == nullptr || key_field->is_repeated() ||
      key_field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING)
    throw std::invalid_argument("outbox: " + descriptor->full_name() + " has no idempotency_key");

  const std::string key = NewIdempotencyKey();
  std::unique_ptr<google::protobuf::Message> keyed(request.New());
  keyed->CopyFrom(request);
  keyed->GetReflection()->SetString(keyed.get(), key_field, key);
  std::string bytes;
  if (!keyed->SerializeToString(&bytes))
    throw std::invalid_argument("outbox: cannot serialize " + descriptor->full_name());

  int64_t id = 0;
  {
    auto lock = store_.Lock();
    const int64_t now = UnixNowMs();
    auto st = store_.Prepare(
        "INSERT INTO outbox(idempotency_key, method, request, label, target, created_at, state, updated_at) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
    st.Bind(1, key)
        .Bind(2, method)
        .BindBlob(3, bytes)
        .Bind(4, label)
        .Bind(5, target)
        .Bind(6, now)
        .Bind(7, static_cast<int>(ActionState::kPending))
        .Bind(8, now)
        .Run();
    id = store_.LastInsertId();
  }
  std::lock_guard lock(listener_mu_);
  if (listener_) listener_();
  return id;
}

std::optional<OutboxAction> Outbox::Get(int64_t id) {
  auto lock = store_.Lock();
  auto st = store_.Prepare("SELECT " + std::string(kColumns) + " FROM outbox WHERE id = ?");
  st.Bind(1, id);
  if (!st.Step()) return std::nullopt;
  return ReadAction(st);
}

std::vector<OutboxAction> Outbox::Recent(size_t max) {
  auto lock = store_.Lock();
  auto st = store_.Prepare("SELECT " + std::string(kColumns) + " FROM outbox ORDER BY id DESC LIMIT ?");
  st.Bind(1, static_cast<int64_t>(std::min<size_t>(max, std::numeric_limits<int64_t>::max())));
  return ReadAll(st);
}

std::vector<OutboxAction> Outbox::ForTarget(std::string_view target) {
  auto lock = store_.Lock();
  auto st = store_.Prepare("SELECT " + std::string(kColumns) + " FROM outbox WHERE target = ? ORDER BY id DESC");
  st.Bind(1, target);
  return ReadAll(st);
}

size_t Outbox::Unfinished() {
  auto lock = store_.Lock();
  auto st = store_.Prepare("SELECT COUNT(*) FROM outbox WHERE state IN (?, ?)");
  st.Bind(1, static_cast<int>(ActionState::kPending)).Bind(2, static_cast<int>(ActionState::kSending));
  st.Step();
  return static_cast<size_t>(st.Int(0));
}

std::optional<OutboxAction> Outbox::NextDue(int64_t now_ms, int64_t* next_due_ms) {
  if (next_due_ms) *next_due_ms = std::numeric_limits<int64_t>::max();
  auto lock = store_.Lock();
  auto st =
      store_.Prepare("SELECT " + std::string(kColumns) + " FROM outbox WHERE state IN (?, ?) ORDER BY id LIMIT 1");
  st.Bind(1, static_cast<int>(ActionState::kPending)).Bind(2, static_cast<int>(ActionState::kSending));
  if (!st.Step()) return std::nullopt;
  OutboxAction head = ReadAction(st);
  if (head.state != ActionState::kPending) return std::nullopt;
  if (head.not_before_unix_ms > now_ms) {
    if (next_due_ms) *next_due_ms = head.not_before_unix_ms;
    return std::nullopt;
  }
  return head;
}

bool Outbox::MarkSending(int64_t id) {
  auto lock = store_.Lock();
  auto st = store_.Prepare(
      "UPDATE outbox SET state = ?, attempts = attempts + 1, updated_at = ? "
      "WHERE id = ? AND state = ?");
  st.Bind(1, static_cast<int>(ActionState::kSending))
      .Bind(2, UnixNowMs())
      .Bind(3, id)
      .Bind(4, static_cast<int>(ActionState::kPending))
      .Run();
  return store_.Changes() == 1;
}

bool Outbox::MarkConfirmed(int64_t id, std::string_view response) {
  auto lock = store_.Lock();
  const auto action = Get(id);
  if (!action || action->state != ActionState::kSending) return false;
  auto st = store_.Prepare(
      "UPDATE outbox SET state = ?, response = ?, request = ?, error_code = 0, error_message = '', "
      "updated_at = ? WHERE id = ? AND state = ?");
  st.Bind(1, static_cast<int>(ActionState::kConfirmed))
      .BindBlob(2, response)
      .BindBlob(3, WithoutBytesFields(action->method, action->request))
      .Bind(4, UnixNowMs())
      .Bind(5, id)
      .Bind(6, static_cast<int>(ActionState::kSending))
      .Run();
  return store_.Changes() == 1;
}

bool Outbox::MarkRetry(int64_t id, int error_code, std::string_view message, int64_t not_before_ms) {
  auto lock = store_.Lock();
  auto st = store_.Prepare(
      "UPDATE outbox SET state = ?, error_code = ?, error_message = ?, not_before = ?, "
      "updated_at = ? WHERE id = ? AND state = ?");
  st.Bind(1, static_cast<int>(ActionState::kPending))
      .Bind(2, error_code)
      .Bind(3, message)
      .Bind(4, not_before_ms)
      .Bind(5, UnixNowMs())
      .Bind(6, id)
      .Bind(7, static_cast<int>(ActionState::kSending))
      .Run();
  return store_.Changes() == 1;
}

bool Outbox::MarkFailed(int64_t id, int error_code, std::string_view message) {
  auto lock = store_.Lock();
  auto st = store_.Prepare(
      "UPDATE outbox SET state = ?, error_code = ?, error_message = ?, updated_at = ? "
      "WHERE id = ? AND state = ?");
  st.Bind(1, static_cast<int>(ActionState::kFailed))
      .Bind(2, error_code)
      .Bind(3, message)
      .Bind(4, UnixNowMs())
      .Bind(5, id)
      .Bind(6, static_cast<int>(ActionState::kSending))
      .Run();
  return store_.Changes() == 1;
}

int Outbox::PruneConfirmed(int64_t before_ms) {
  auto lock = store_.Lock();
  auto st = store_.Prepare("DELETE FROM outbox WHERE state = ? AND updated_at < ?");
  st.Bind(1, static_cast<int>(ActionState::kConfirmed)).Bind(2, before_ms).Run();
  return store_.Changes();
}

OutboxWipe Outbox::Wipe(bool discard_undelivered) {
  OutboxWipe wiped;
  {
    auto lock = store_.Lock();
    auto finished = store_.Prepare("DELETE FROM outbox WHERE state IN (?, ?)");
    finished.Bind(1, static_cast<int>(ActionState::kConfirmed)).Bind(2, static_cast<int>(ActionState::kFailed)).Run();
    wiped.finished = store_.Changes();
    if (discard_undelivered) {
      // A call in flight may still be applied by the backend; its answer then finds no row
      // and changes nothing here.
      auto undelivered = store_.Prepare("DELETE FROM outbox WHERE state IN (?, ?)");
      undelivered.Bind(1, static_cast<int>(ActionState::kPending))
          .Bind(2, static_cast<int>(ActionState::kSending))
          .Run();
      wiped.undelivered = store_.Changes();
    }
  }
  store_.Compact();
  return wiped;
}

void Outbox::SetEnqueueListener(std::function<void()> listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

}  // namespace exam::local
