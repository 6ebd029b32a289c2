// The support desk under a burst: N open appeals (with ID photos and failed captures) and
// M help threads on the real backend over loopback. Prints the round trip of listing the
// queues and of claiming and deciding every appeal (p50/p99/max), and checks that no appeal
// was decided twice.
//
//   bench_support_desk [--appeals 500] [--help 200] [--photo-kb 40] [--hold-until-file PATH]
//
// With --hold-until-file, after seeding it prints "serving on ADDR" and waits until PATH
// exists before deciding, so a console can be pointed at the loaded queues first
// (tests/bench/support_desk_frames.sh measures the panels' frame time that way).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "backend/server.h"
#include "backend_fixture.h"
#include "exam/v1/appeal.grpc.pb.h"
#include "exam/v1/candidate.grpc.pb.h"
#include "exam/v1/help.grpc.pb.h"

namespace {

namespace v1 = exam::v1;
using Clock = std::chrono::steady_clock;

struct Latencies {
  std::vector<double> ms;
  void Add(Clock::time_point t0) { ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count()); }
  void Print(const char* what) {
    std::sort(ms.begin(), ms.end());
    auto pct = [&](double p) { return ms.empty() ? 0.0 : ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))]; };
    std::printf("%-28s n=%-5zu p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", what, ms.size(), pct(0.5), pct(0.99),
                ms.empty() ? 0.0 : ms.back());
  }
};

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto c = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) c->AddMetadata("authorization", "Bearer " + token);
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace exam::testing;
  int appeals = 500, helps = 200, photo_kb = 40;
  std::string hold_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--appeals") appeals = std::stoi(argv[i + 1]);
    else if (a == "--help") helps = std::stoi(argv[i + 1]);
    else if (a == "--photo-kb") photo_kb = std::stoi(argv[i + 1]);
    else if (a == "--hold-until-file") hold_file = argv[i + 1];
  }
  TempDir dir;
  exam::backend::ServerOptions o;
  o.db_path = (dir.path() / "examd.db").string();
  o.demo_candidates = appeals + helps;
  o.demo_start_in = exam::core::minutes(50);  // face login is open, the exam not started
  std::string error;
  auto server = exam::backend::ExamServer::Start(o, &error);
  if (!server) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  auto channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
  auto cand = v1::CandidateService::NewStub(channel);
  const auto& demo = server->demo();
  const std::string photo = RandomBytes(static_cast<size_t>(photo_kb) << 10, 5);

  // The burst, filed by many devices at once (8 threads).
  auto device = [&](int index) {
    v1::JoinRequest req;
    req.set_exam_id(demo.exam_id);
    req.set_registration_no(demo.registration_nos.at(static_cast<size_t>(index)));
    req.set_access_code(demo.access_code);
    req.set_device(v1::DEVICE_KIND_LAPTOP);
    v1::JoinResponse resp;
    cand->Join(Ctx("").get(), req, &resp);
    return resp.token();
  };
  int key = 0;
  std::mutex key_mu;
  auto next_key = [&] {
    std::lock_guard lock(key_mu);
    return "k" + std::to_string(++key);
  };
  const auto seed0 = Clock::now();
  std::vector<std::thread> seeders;
  std::atomic<int> filed{0}, raised{0};
  for (int t = 0; t < 8; ++t) {
    seeders.emplace_back([&, t] {
      for (int i = t; i < appeals + helps; i += 8) {
        const std::string token = device(i);
        v1::ReportStageRequest st;
        v1::Session s;
        for (auto stage : {v1::STAGE_DEVICE_CHECK, v1::STAGE_FACE_LOGIN}) {
          st.set_idempotency_key(next_key());
          st.set_stage(stage);
          cand->ReportStage(Ctx(token).get(), st, &s);
        }
        if (i < appeals) {
          for (int f = 0; f < 3; ++f) {
            v1::ReportFaceCheckRequest fc;
            fc.set_idempotency_key(next_key());
            fc.set_similarity(0.3);
            fc.set_capture(photo);
            v1::FaceCheckResponse fr;
            cand->ReportFaceCheck(Ctx(token).get(), fc, &fr);
          }
          v1::FileAppealRequest fa;
          fa.set_idempotency_key(next_key());
          fa.set_id_front(photo);
          fa.set_id_back(photo);
          fa.set_handheld_id(photo);
          v1::FileAppealResponse resp;
          if (cand->FileAppeal(Ctx(token).get(), fa, &resp).ok()) ++filed;
        } else {
          v1::RaiseHelpRequest rh;
          rh.set_idempotency_key(next_key());
          rh.set_text("题目加载不出来 / the question does not load");
          v1::RaiseHelpResponse resp;
          if (cand->RaiseHelp(Ctx(token).get(), rh, &resp).ok()) ++raised;
        }
      }
    });
  }
  for (auto& t : seeders) t.join();
  std::printf("seeded %d appeals and %d help requests in %.1f s\n", filed.load(), raised.load(),
              std::chrono::duration<double>(Clock::now() - seed0).count());

  if (!hold_file.empty()) {
    std::printf("serving on %s\n", server->address().c_str());
    std::fflush(stdout);
    // An orchestration wait for another program (the console being measured), not a test's.
    while (!std::filesystem::exists(hold_file)) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  auto auth = v1::AuthService::NewStub(channel);
  auto login = [&](const char* user) {
    v1::LoginRequest req;
    req.set_username(user);
    req.set_password("demo");
    v1::LoginResponse resp;
    auth->Login(Ctx("").get(), req, &resp);
    return resp.token();
  };
  const std::string support1 = login("support1"), support2 = login("support2");
  auto appeal_stub = v1::AppealService::NewStub(channel);
  auto help_stub = v1::HelpService::NewStub(channel);

  Latencies list_appeals, list_help, get_appeal, claim, decide, help_claim;
  v1::ListAppealsResponse open;
  for (int i = 0; i < 20; ++i) {
    v1::ListAppealsRequest req;
    req.set_open_only(true);
    open.Clear();
    const auto t0 = Clock::now();
    appeal_stub->ListAppeals(Ctx(support1).get(), req, &open);
    list_appeals.Add(t0);
    v1::ListHelpRequestsRequest hreq;
    hreq.set_exam_id(demo.exam_id);
    hreq.set_unresolved_only(true);
    v1::ListHelpRequestsResponse hresp;
    const auto t1 = Clock::now();
    help_stub->ListHelpRequests(Ctx(support1).get(), hreq, &hresp);
    list_help.Add(t1);
  }
  // Two staff work the same queue from both ends; every appeal must be decided exactly once.
  std::atomic<int> decided{0}, lost_races{0}, double_decisions{0};
  auto work = [&](const std::string& token, bool from_front) {
    const int n = open.appeals_size();
    for (int k = 0; k < n; ++k) {
      const auto& a = open.appeals(from_front ? k : n - 1 - k);
      v1::Appeal got;
      v1::GetAppealRequest g;
      g.set_appeal_id(a.id());
      auto t0 = Clock::now();
      appeal_stub->GetAppeal(Ctx(token).get(), g, &got);
      get_appeal.Add(t0);
      v1::ClaimAppealRequest c;
      c.set_idempotency_key(next_key());
      c.set_appeal_id(a.id());
      v1::Appeal claimed;
      t0 = Clock::now();
      auto s = appeal_stub->ClaimAppeal(Ctx(token).get(), c, &claimed);
      claim.Add(t0);
      if (!s.ok()) {
        ++lost_races;
        continue;
      }
      if (claimed.state() != v1::APPEAL_STATE_OPEN) continue;
      v1::DecideAppealRequest d;
      d.set_idempotency_key(next_key());
      d.set_appeal_id(a.id());
      d.set_expected_version(claimed.version());
      d.set_decision(v1::APPEAL_DECISION_APPROVE);
      d.set_reason("证件照与本人一致 / ID matches");
      v1::Appeal out;
      t0 = Clock::now();
      s = appeal_stub->DecideAppeal(Ctx(token).get(), d, &out);
      decide.Add(t0);
      if (s.ok()) ++decided;
      else if (s.error_code() != grpc::StatusCode::FAILED_PRECONDITION && s.error_code() != grpc::StatusCode::ABORTED)
        ++double_decisions;
    }
  };
  std::thread w1(work, support1, true), w2(work, support2, false);
  // Meanwhile a third person claims the help requests.
  const std::string support_help = login("admin");
  v1::ListHelpRequestsRequest hreq;
  hreq.set_exam_id(demo.exam_id);
  v1::ListHelpRequestsResponse hresp;
  help_stub->ListHelpRequests(Ctx(support1).get(), hreq, &hresp);
  for (const auto& h : hresp.requests()) {
    v1::ClaimHelpRequest c;
    c.set_idempotency_key(next_key());
    c.set_help_id(h.id());
    v1::HelpRequest out;
    const auto t0 = Clock::now();
    help_stub->ClaimHelp(Ctx(support1).get(), c, &out);
    help_claim.Add(t0);
  }
  w1.join();
  w2.join();

  list_appeals.Print("ListAppeals (open)");
  list_help.Print("ListHelpRequests (open)");
  get_appeal.Print("GetAppeal (with photos)");
  claim.Print("ClaimAppeal");
  decide.Print("DecideAppeal");
  help_claim.Print("ClaimHelp");
  v1::ListAppealsRequest left;
  left.set_open_only(true);
  v1::ListAppealsResponse after;
  appeal_stub->ListAppeals(Ctx(support1).get(), left, &after);
  std::printf("decided %d of %d (%d claims lost to the other desk), %d still open, %d unexpected errors\n",
              decided.load(), open.appeals_size(), lost_races.load(), after.appeals_size(), double_decisions.load());
  server->Shutdown();
  return decided == open.appeals_size() && after.appeals_size() == 0 && double_decisions == 0 ? 0 : 1;
}
