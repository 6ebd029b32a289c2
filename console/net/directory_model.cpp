#include "net/directory_model.h"

#include <algorithm>
#include <unordered_map>

namespace exam::net {
namespace {

template <typename T>
const T* FindById(const std::vector<T>& items, int64_t id) {
  for (const auto& item : items) {
    if (item.id() == id) return &item;
  }
  return nullptr;
}

int StageIndex(exam::v1::Stage stage) {
  const int value = static_cast<int>(stage);
  return core::IsValidStage(value) ? value : 0;
}

bool AnyDeviceOffline(const exam::v1::Session& s) {
  return std::any_of(s.devices().begin(), s.devices().end(),
                     [](const exam::v1::Device& d) { return !d.online(); });
}

void Count(const exam::v1::Session& s, RoomSummary* room, DirectorySnapshot* all) {
  const int stage = StageIndex(s.stage());
  const bool interrupted = s.has_interruption_started_at() && s.stage() != exam::v1::STAGE_ENDED;
  all->by_stage[stage]++;
  all->open_help += s.open_help();
  all->open_alerts += s.open_alerts();
  all->appeals_pending += s.appeal_pending() ? 1 : 0;
  all->interrupted += interrupted ? 1 : 0;
  if (room == nullptr) return;
  room->sessions++;
  room->by_stage[stage]++;
  room->open_help += s.open_help();
  room->open_alerts += s.open_alerts();
  room->appeals_pending += s.appeal_pending() ? 1 : 0;
  room->interrupted += interrupted ? 1 : 0;
  room->devices_offline += (s.stage() != exam::v1::STAGE_ENDED && AnyDeviceOffline(s)) ? 1 : 0;
}

}  // namespace

const exam::v1::Session* DirectorySnapshot::FindSession(int64_t id) const {
  auto it = std::lower_bound(sessions.begin(), sessions.end(), id,
                             [](const SessionPtr& s, int64_t v) { return s->id() < v; });
  return (it != sessions.end() && (*it)->id() == id) ? it->get() : nullptr;
}

const exam::v1::Room* DirectorySnapshot::FindRoom(int64_t id) const {
  return rooms ? FindById(*rooms, id) : nullptr;
}

const exam::v1::Exam* DirectorySnapshot::FindExam(int64_t id) const {
  return exams ? FindById(*exams, id) : nullptr;
}

bool EventCarriesSession(exam::v1::EventKind kind) {
  switch (kind) {
    case exam::v1::EVENT_KIND_STAGE_CHANGED:
    case exam::v1::EVENT_KIND_FACE_CHECK:
    case exam::v1::EVENT_KIND_INTERRUPTION_STARTED:
    case exam::v1::EVENT_KIND_INTERRUPTION_ENDED:
    case exam::v1::EVENT_KIND_SESSION_ENDED:
    case exam::v1::EVENT_KIND_DEVICE_CHANGED:
      return true;
    default:
      return false;
  }
}

void DirectoryModel::Reset(std::vector<exam::v1::Exam> exams, std::vector<exam::v1::Room> rooms,
                           std::vector<exam::v1::Session> sessions, int64_t as_of_seq) {
  exams_ = std::make_shared<const std::vector<exam::v1::Exam>>(std::move(exams));
  rooms_ = std::make_shared<const std::vector<exam::v1::Room>>(std::move(rooms));
  sessions_.clear();
  for (auto& s : sessions) {
    const int64_t id = s.id();
    sessions_[id] = std::make_shared<const exam::v1::Session>(std::move(s));
  }
  last_seq_ = as_of_seq;
  loaded_ = true;
}

bool DirectoryModel::Upsert(const exam::v1::Session& session) {
  if (session.id() == 0) return false;
  auto it = sessions_.find(session.id());
  // Versions only grow; an older copy (a refresh racing an event) must not win.
  if (it != sessions_.end() && it->second->version() > session.version()) return false;
  sessions_[session.id()] = std::make_shared<const exam::v1::Session>(session);
  return true;
}

DirectoryModel::Applied DirectoryModel::Apply(const exam::v1::Event& event,
                                              std::vector<int64_t>* refresh) {
  if (event.seq() <= last_seq_) return Applied::kDuplicate;
  last_seq_ = event.seq();
  if (event.has_session() && event.session().id() != 0) {
    Upsert(event.session());
    return Applied::kApplied;
  }
  if (event.session_id() == 0 || refresh == nullptr) return Applied::kApplied;
  switch (event.kind()) {
    case exam::v1::EVENT_KIND_ALERT_RAISED:
    case exam::v1::EVENT_KIND_ALERT_ACKNOWLEDGED:
    case exam::v1::EVENT_KIND_HELP_RAISED:
    case exam::v1::EVENT_KIND_HELP_UPDATED:
    case exam::v1::EVENT_KIND_APPEAL_FILED:
    case exam::v1::EVENT_KIND_APPEAL_UPDATED:
    case exam::v1::EVENT_KIND_VIOLATION_RECORDED:
    case exam::v1::EVENT_KIND_QUESTION_SHOWN:
      refresh->push_back(event.session_id());
      break;
    case exam::v1::EVENT_KIND_UPLOAD_PROGRESS: {
      // detail is "committed/size": only a finished file changes the session's counters.
      const auto& d = event.detail();
      const auto slash = d.find('/');
      if (slash != std::string::npos && d.substr(0, slash) == d.substr(slash + 1)) {
        refresh->push_back(event.session_id());
      }
      break;
    }
    default:
      break;
  }
  return Applied::kApplied;
}

std::shared_ptr<const DirectorySnapshot> DirectoryModel::Build(uint64_t version) const {
  auto snap = std::make_shared<DirectorySnapshot>();
  snap->version = version;
  snap->last_seq = last_seq_;
  snap->loaded = loaded_;
  snap->exams = exams_;
  snap->rooms = rooms_;
  snap->sessions.reserve(sessions_.size());
  snap->room_summaries.reserve(rooms_->size());
  std::unordered_map<int64_t, size_t> room_index;
  for (const auto& room : *rooms_) {
    room_index.emplace(room.id(), snap->room_summaries.size());
    RoomSummary summary;
    summary.room_id = room.id();
    summary.exam_id = room.exam_id();
    summary.name = room.name();
    snap->room_summaries.push_back(std::move(summary));
  }
  for (const auto& [id, session] : sessions_) {
    snap->sessions.push_back(session);
    auto it = room_index.find(session->room_id());
    Count(*session, it == room_index.end() ? nullptr : &snap->room_summaries[it->second], snap.get());
  }
  return snap;
}

}  // namespace exam::net
