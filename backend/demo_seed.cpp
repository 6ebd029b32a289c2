#include "backend/demo_seed.h"

#include <google/protobuf/util/time_util.h>

#include <array>
#include <cstdio>

#include "backend/sim/blobs.h"
#include "backend/store/user_repository.h"

namespace exam::backend {
namespace {

namespace v1 = exam::v1;
using google::protobuf::util::TimeUtil;

constexpr const char* kAccessCode = "EXAM-2026";

std::string RegistrationNo(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026%06d", i + 1);
  return buf;
}

std::string CandidateName(int i) {
  static constexpr std::array<const char*, 20> kSurnames = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                                           "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"};
  static constexpr std::array<const char*, 16> kGiven = {"伟", "芳", "娜", "敏", "静", "磊", "洋", "艳",
                                                        "杰", "婷", "强", "军", "雪", "晨", "宇", "欣"};
  return std::string(kSurnames[i % kSurnames.size()]) + kGiven[(i / 3 + i * 7) % kGiven.size()] +
         (i % 2 ? kGiven[(i * 5 + 3) % kGiven.size()] : "");
}

}  // namespace

DemoInfo SeedOrLoadDemo(BackendContext& ctx, const ServerOptions& options) {
  DemoInfo info;
  const bool empty = [&] {
    std::lock_guard lock(ctx.db.mutex());
    return store::UserRepository(ctx.db).Empty();
  }();
  if (empty && options.seed_demo) {
    const int n = std::max(1, options.demo_candidates);
    const int rooms = options.demo_rooms > 0 ? options.demo_rooms : (n + 39) / 40;
    ctx.Write([&](WriteScope& w) {
      store::ExamRepository exams(w.db());
      v1::Exam exam;
      exam.set_title("2026 年研究生复试 · 综合面试 (Graduate admission interview)");
      exam.set_kind(v1::EXAM_KIND_INTERVIEW);
      exam.mutable_rules()->set_rerecord_allowed(options.demo_rerecord_allowed);
      *exam.mutable_start_time() = TimeUtil::MillisecondsToTimestamp(w.now_ms() + options.demo_start_in.count());
      const std::array<const char*, 3> titles = {"自我介绍 Self-introduction", "专业问题 Subject question",
                                                 "英语问答 English Q&A"};
      for (int q = 0; q < 3; ++q) {
        auto* question = exam.add_questions();
        question->set_index(q + 1);
        *question->mutable_reading_time() = TimeUtil::SecondsToDuration(q == 1 ? 60 : 0);
        *question->mutable_answer_time() = TimeUtil::SecondsToDuration(5 * 60);
        question->set_title(titles[q]);
      }
      info.exam_id = exams.CreateExam(exam, kAccessCode);
      std::vector<int64_t> room_ids;
      for (int r = 0; r < rooms; ++r)
        room_ids.push_back(exams.CreateRoom(info.exam_id, "第 " + std::to_string(r + 1) + " 考场 Room " + std::to_string(r + 1)));
      for (int i = 0; i < n; ++i) {
        char id_number[32];
        std::snprintf(id_number, sizeof id_number, "110101200%01d%04d%04d", i % 10, 101 + i % 1100, 1000 + i);
        const int64_t session = exams.CreateSession(info.exam_id, room_ids[static_cast<size_t>(i) * rooms / n],
                                                    RegistrationNo(i), CandidateName(i), id_number, w.now_ms());
        exams.SetRegistrationPhoto(session, sim::MakePhoto(sim::PhotoKind::kRegistration, 7000 + static_cast<uint64_t>(i)));
      }
      store::UserRepository users(w.db());
      users.Create("admin", "管理员 Admin", info.demo_password, {v1::ROLE_ADMIN}, {}, w.now_ms());
      users.Create("proctor1", "监考 张老师", info.demo_password, {v1::ROLE_PROCTOR}, {room_ids[0]}, w.now_ms());
      users.Create("proctor2", "监考 李老师", info.demo_password, {v1::ROLE_PROCTOR},
                   {room_ids[std::min<size_t>(1, room_ids.size() - 1)]}, w.now_ms());
      users.Create("support1", "技术支持 王工", info.demo_password, {v1::ROLE_SUPPORT}, {}, w.now_ms());
      users.Create("support2", "技术支持 赵工", info.demo_password, {v1::ROLE_SUPPORT}, {}, w.now_ms());
      users.Create("grader1", "评委 1 号", info.demo_password, {v1::ROLE_GRADER}, {}, w.now_ms());
    });
  }
  std::lock_guard lock(ctx.db.mutex());
  store::ExamRepository exams(ctx.db);
  auto all = exams.ListExams();
  if (!all.empty()) {
    info.exam_id = all.front().proto.id();
    info.access_code = all.front().access_code;
    for (const auto& s : exams.ListSessions(info.exam_id, 0)) info.registration_nos.push_back(s.registration_no);
  }
  return info;
}

}  // namespace exam::backend
