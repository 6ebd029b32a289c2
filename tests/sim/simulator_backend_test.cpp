// End to end: the simulator drives the real backend (SQLite on a temporary file, loopback
// gRPC) through whole exams, with a staff desk deciding appeals, answering help requests and
// ending chosen exams; outcomes are then read back as an administrator.
#include <gtest/gtest.h>

#include <iostream>
#include <map>

#include "backend/sim/simulator.h"
#include "sim_backend_support.h"

namespace exam::sim {
namespace {

namespace v1 = exam::v1;
using namespace std::chrono_literals;
using exam::testing::DemoBackend;
using exam::testing::PollUntil;
using exam::testing::StaffDesk;
using exam::testing::StaffPolicy;

std::string Name(v1::Outcome o) { return v1::Outcome_Name(o); }
std::string Name(core::Outcome o) { return Name(static_cast<v1::Outcome>(o)); }

std::map<std::string, const CandidatePlan*> ByRegistration(const std::vector<CandidatePlan>& plans) {
  std::map<std::string, const CandidatePlan*> out;
  for (const auto& p : plans) out[p.registration_no] = &p;
  return out;
}

std::map<int64_t, int> AppealsBySession(const std::vector<v1::Appeal>& appeals) {
  std::map<int64_t, int> out;
  for (const auto& a : appeals) out[a.session_id()]++;
  return out;
}

std::map<int64_t, int> HelpBySession(const std::vector<v1::HelpRequest>& requests) {
  std::map<int64_t, int> out;
  for (const auto& h : requests) out[h.session_id()]++;
  return out;
}

std::string Summary(const SimulatorStats& st) {
  return "completed " + std::to_string(st.completed) + ", ended early " + std::to_string(st.ended_early) +
         ", forfeited " + std::to_string(st.forfeited) + " (+" + std::to_string(st.no_shows) + " no-shows), terminated " +
         std::to_string(st.terminated) + ", identity rejected " + std::to_string(st.identity_rejected) + ", appeals " +
         std::to_string(st.appeals_filed) + ", help " + std::to_string(st.help_raised) + ", interruptions " +
         std::to_string(st.interruptions) + ", heartbeats " + std::to_string(st.heartbeats) + ", refusals " +
         std::to_string(st.refusals) + ", rpc errors " + std::to_string(st.rpc_errors) + ", failed " +
         std::to_string(st.failed) + ", gave up " + std::to_string(st.gave_up) + ", uploads unimplemented " +
         std::to_string(st.uploads_unimplemented) + ", uploads completed " + std::to_string(st.uploads_completed);
}

TEST(SimulatorBackend, FortyCandidatesThroughARealExam) {
  DemoBackend backend(40, 120);
  ASSERT_TRUE(backend.Start());
  auto o = backend.SimulatorFor(3, 4);
  CandidateSimulator sim(o);
  SimulatorStats st;
  {
    StaffDesk desk(backend);
    sim.Start();
    const bool finished = PollUntil([&] { return sim.Finished(); }, 120s, 25ms);
    st = sim.Stats();
    ASSERT_TRUE(finished) << Summary(st);
    std::cerr << "staff approved " << desk.approved() << " appeals, answered " << desk.help_answered()
              << " help requests\n";
  }
  sim.Stop();

  const auto sessions = backend.Sessions();
  ASSERT_EQ(sessions.size(), 40u);
  auto appeals_by_session = AppealsBySession(backend.Appeals());
  const auto plans = ByRegistration(sim.Plans());
  std::map<v1::Outcome, int> want, got;
  int appeal_plans = 0;
  for (const auto& s : sessions) {
    const CandidatePlan& p = *plans.at(s.registration_no());
    SCOPED_TRACE(p.Describe());
    const auto expected = static_cast<v1::Outcome>(p.expected_outcome);
    EXPECT_EQ(Name(s.outcome()), Name(expected));
    EXPECT_EQ(s.stage(), v1::STAGE_ENDED);
    want[expected]++;
    got[s.outcome()]++;
    EXPECT_EQ(appeals_by_session[s.id()], p.files_appeal ? 1 : 0);
    appeal_plans += p.files_appeal;
    if (p.files_appeal) {
      EXPECT_GE(s.face_failures(), 3);
    }
  }
  EXPECT_EQ(got[v1::OUTCOME_COMPLETED], want[v1::OUTCOME_COMPLETED]);
  EXPECT_EQ(got[v1::OUTCOME_ENDED_EARLY], want[v1::OUTCOME_ENDED_EARLY]);
  EXPECT_EQ(got[v1::OUTCOME_FORFEITED], want[v1::OUTCOME_FORFEITED]);
  EXPECT_EQ(st.appeals_filed, appeal_plans);
  EXPECT_EQ(st.completed, want[v1::OUTCOME_COMPLETED]);
  EXPECT_EQ(st.ended_early, want[v1::OUTCOME_ENDED_EARLY]);
  EXPECT_EQ(st.failed, 0);
  EXPECT_EQ(st.gave_up, 0);
  // Recordings went up (the upload mix itself is simulator_upload_test's).
  EXPECT_EQ(st.uploads_unimplemented, 0);
  EXPECT_GT(st.uploads_completed, 2 * want[v1::OUTCOME_COMPLETED]);
  std::cerr << Summary(st) << "\n";
}

// A rejected appeal and a proctor's termination reach the candidates as the backend
// delivers them (staff messages and session snapshots), and every other candidate still
// ends as planned; what each device reported is what the backend recorded.
TEST(SimulatorBackend, StaffDecisionsReachTheCandidates) {
  constexpr uint64_t kSeed = 3;
  DemoBackend backend(40, 150);
  ASSERT_TRUE(backend.Start());
  const auto plans = MakePlans(backend.demo().registration_nos, kSeed);
  std::map<std::string, core::Outcome> expected;
  for (const auto& p : plans) expected[p.registration_no] = p.expected_outcome;
  StaffPolicy policy;
  for (const auto& p : plans)
    if (p.files_appeal) {
      policy.reject_appeals.insert(p.registration_no);
      expected[p.registration_no] = core::Outcome::kIdentityRejected;
      break;
    }
  for (const auto& p : plans)
    if (p.expected_outcome == core::Outcome::kCompleted && !p.files_appeal && !p.raises_help) {
      policy.terminate_when_answering.insert(p.registration_no);
      expected[p.registration_no] = core::Outcome::kTerminated;
      break;
    }
  ASSERT_EQ(policy.reject_appeals.size(), 1u);
  ASSERT_EQ(policy.terminate_when_answering.size(), 1u);

  CandidateSimulator sim(backend.SimulatorFor(kSeed));
  ASSERT_EQ(sim.Plans().size(), plans.size());
  for (size_t i = 0; i < plans.size(); ++i) ASSERT_EQ(sim.Plans()[i].Describe(), plans[i].Describe());
  SimulatorStats st;
  {
    StaffDesk desk(backend, policy);
    sim.Start();
    const bool finished = PollUntil([&] { return sim.Finished(); }, 90s);
    st = sim.Stats();
    ASSERT_TRUE(finished) << Summary(st);
    EXPECT_EQ(desk.rejected(), 1);
    EXPECT_EQ(desk.terminated(), 1);
  }
  sim.Stop();

  const auto sessions = backend.Sessions();
  ASSERT_EQ(sessions.size(), plans.size());
  auto appeals_by_session = AppealsBySession(backend.Appeals());
  auto help_by_session = HelpBySession(backend.HelpRequests());
  const auto by_reg = ByRegistration(plans);
  int completed = 0, ended_early = 0, forfeited = 0, appeals = 0, help = 0;
  for (const auto& s : sessions) {
    const CandidatePlan& p = *by_reg.at(s.registration_no());
    SCOPED_TRACE(p.Describe());
    EXPECT_EQ(Name(s.outcome()), Name(expected[s.registration_no()]));
    EXPECT_EQ(s.stage(), v1::STAGE_ENDED);
    EXPECT_EQ(appeals_by_session[s.id()], p.files_appeal ? 1 : 0);
    appeals += appeals_by_session[s.id()];
    completed += s.outcome() == v1::OUTCOME_COMPLETED;
    ended_early += s.outcome() == v1::OUTCOME_ENDED_EARLY;
    forfeited += s.outcome() == v1::OUTCOME_FORFEITED;
    std::map<v1::DeviceKind, std::string> models;
    for (const auto& d : s.devices()) models[d.kind()] = d.model();
    if (p.attendance == Attendance::kNoShow) {
      EXPECT_TRUE(models.empty());
    } else {
      EXPECT_EQ(models[v1::DEVICE_KIND_LAPTOP], p.laptop_model);
    }
    EXPECT_LE(help_by_session[s.id()], p.raises_help ? 1 : 0);
    help += help_by_session[s.id()];
    if (s.outcome() == v1::OUTCOME_COMPLETED) {
      EXPECT_EQ(models[v1::DEVICE_KIND_EVIDENCE_PHONE], p.phone_model);
      EXPECT_EQ(s.interruptions(), static_cast<int>(p.interruptions.size()));
      EXPECT_EQ(help_by_session[s.id()], p.raises_help ? 1 : 0);
    }
  }
  EXPECT_EQ(st.help_raised, help);
  EXPECT_EQ(st.completed, completed);
  EXPECT_EQ(st.ended_early, ended_early);
  EXPECT_EQ(st.forfeited + st.no_shows, forfeited);
  EXPECT_EQ(st.terminated, 1);
  EXPECT_EQ(st.identity_rejected, 1);
  EXPECT_EQ(st.appeals_filed, appeals);
  EXPECT_GT(appeals, 1);
  EXPECT_GE(st.face_failures, 3 * appeals);
  EXPECT_GT(completed, 25);
  EXPECT_GT(ended_early, 0);
  EXPECT_GT(forfeited, 0);
  EXPECT_GT(help, 0);
  EXPECT_GT(st.help_messages_sent, 0);  // replies to the staff's answers
  EXPECT_GT(st.staff_messages, 0);
  EXPECT_EQ(st.failed, 0);
  EXPECT_EQ(st.gave_up, 0);
  EXPECT_EQ(st.rpc_errors, 0);
  std::cerr << Summary(st) << "\n";
}

// A simulator stopped mid-exam, and the backend restarted on the same SQLite file, and then
// a new simulator on it: every candidate is picked up where the stored session stands and
// still reaches the planned outcome, with no second appeal or help request raised.
TEST(SimulatorBackend, RestartedSimulatorCarriesOn) {
  constexpr uint64_t kSeed = 21;
  DemoBackend backend(40, 150);
  ASSERT_TRUE(backend.Start());
  // Stopped while nobody is interrupted: at this clock the two-minute resume limit is 0.8 s
  // of real time, less than a restart may take.
  auto answering_and_none_interrupted = [&] {
    int answering = 0;
    for (const auto& s : backend.Sessions()) {
      if (s.has_interruption_started_at()) return false;
      answering += s.stage() == v1::STAGE_ANSWERING;
    }
    return answering >= 10;
  };
  {
    CandidateSimulator first(backend.SimulatorFor(kSeed));
    StaffDesk desk(backend);
    first.Start();
    ASSERT_TRUE(PollUntil(answering_and_none_interrupted, 60s, 50ms));
    first.Stop();
    EXPECT_FALSE(first.Finished());
  }
  ASSERT_TRUE(backend.Restart());

  CandidateSimulator second(backend.SimulatorFor(kSeed));
  SimulatorStats st;
  {
    StaffDesk desk(backend);
    second.Start();
    const bool finished = PollUntil([&] { return second.Finished(); }, 90s);
    st = second.Stats();
    ASSERT_TRUE(finished) << Summary(st);
  }
  second.Stop();

  const auto sessions = backend.Sessions();
  ASSERT_EQ(sessions.size(), 40u);
  auto appeals_by_session = AppealsBySession(backend.Appeals());
  auto help_by_session = HelpBySession(backend.HelpRequests());
  const auto by_reg = ByRegistration(second.Plans());
  for (const auto& s : sessions) {
    const CandidatePlan& p = *by_reg.at(s.registration_no());
    SCOPED_TRACE(p.Describe());
    EXPECT_EQ(Name(s.outcome()), Name(p.expected_outcome));
    EXPECT_EQ(appeals_by_session[s.id()], p.files_appeal ? 1 : 0);
    EXPECT_LE(help_by_session[s.id()], p.raises_help ? 1 : 0);
    if (s.outcome() == v1::OUTCOME_COMPLETED) {
      EXPECT_EQ(help_by_session[s.id()], p.raises_help ? 1 : 0);
    }
  }
  EXPECT_EQ(st.failed, 0);
  EXPECT_EQ(st.gave_up, 0);
  EXPECT_EQ(st.rpc_errors, 0);
  std::cerr << "after the restart: " << Summary(st) << "\n";
}

}  // namespace
}  // namespace exam::sim
