// Uploads after the exam, end to end: the simulator's devices push their recordings to the
// real backend (loopback, SQLite and a media directory of its own) at their planned pace, with
// the mix support staff see: pauses, an evidence phone offline for ~40 minutes, a stuck upload,
// a phone upload left pending, an abnormal recording, a device too slow for the deadline and
// second cameras. Support (UploadDesk) recalls the pending and the stuck file once the backend
// calls them interrupted and, where the exam permits it, lets the abnormal one be re-recorded.
// What the backend then holds is checked file by file against the plans.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "backend/sim/blobs.h"
#include "backend/sim/simulator.h"
#include "backend/store/recording_store.h"
#include "sim_backend_support.h"

namespace exam::sim {
namespace {

namespace v1 = exam::v1;
using namespace std::chrono_literals;
using exam::testing::DemoBackend;
using exam::testing::PollUntil;
using exam::testing::StaffDesk;
using exam::testing::UploadDesk;
using exam::testing::UploadPolicy;

std::string FileName(const CandidatePlan& p, Track t) { return p.registration_no + "-" + TrackName(t) + ".mp4"; }

std::string RerecordName(const CandidatePlan& p, Track t) {
  return p.registration_no + "-" + TrackName(t) + "-rerecord.mp4";
}

std::string ReadWhole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Summary(const SimulatorStats& st) {
  std::ostringstream os;
  os << "begun " << st.uploads_begun << ", completed " << st.uploads_completed << " (late " << st.uploads_late
     << "), slow " << st.slow_uploads << ", paused " << st.uploads_paused << ", resumed " << st.uploads_resumed
     << ", offline " << st.devices_offline << "/back " << st.devices_back << ", stuck " << st.uploads_stuck
     << " (refused chunks " << st.stuck_chunks_refused << ", unstuck " << st.uploads_unstuck << "), pending "
     << st.uploads_pending << ", recalls " << st.recalls_handled << ", abnormal " << st.uploads_abnormal
     << ", rerecords " << st.rerecords << "/" << st.rerecords_completed << ", expired " << st.uploads_expired
     << ", refused " << st.uploads_refused << ", unimplemented " << st.uploads_unimplemented << ", second cameras "
     << st.second_cameras << ", rpc errors " << st.rpc_errors << ", failed " << st.failed;
  return os.str();
}

bool HasHistory(const v1::UploadFile& f, const std::string& kind) {
  for (const auto& h : f.history())
    if (h.kind() == kind) return true;
  return false;
}

// "interrupted" followed, later, by "resumed".
bool InterruptedThenResumed(const v1::UploadFile& f) {
  bool interrupted = false;
  for (const auto& h : f.history()) {
    if (h.kind() == "interrupted") interrupted = true;
    if (h.kind() == "resumed" && interrupted) return true;
  }
  return false;
}

std::string Kinds(const v1::UploadFile& f) {
  std::string out;
  for (const auto& h : f.history()) out += h.kind() + " ";
  return out;
}

TEST(SimulatorUploads, TheMixSupportStaffSee) {
  constexpr uint64_t kSeed = 5;
  // Fast enough that the slowest upload (about three backend hours) takes ~20 s, and with a
  // 20 ms tick so the backend notices a two-minute gap in a file's chunks (0.2 s here).
  constexpr double kScale = 600;
  DemoBackend backend(40, kScale, core::minutes(30), 20ms);
  ASSERT_TRUE(backend.Start());
  auto o = backend.SimulatorFor(kSeed, 4);
  o.upload_speedup = 1;  // the planned shape: the slow phone misses the deadline
  o.min_heartbeat_real_s = 0.3;
  CandidateSimulator sim(o);
  const auto& plans = sim.Plans();

  const bool rerecord_allowed = backend.Exam().rules().rerecord_allowed();
  UploadPolicy policy;
  std::map<UploadCase, int> planned;
  int pauses_planned = 0, cameras_planned = 0;
  for (const auto& p : plans) {
    planned[p.upload.kind]++;
    cameras_planned += p.has_second_camera;
    if (p.upload.kind == UploadCase::kPauses) pauses_planned += static_cast<int>(p.upload.pauses_s.size());
    if (p.upload.kind == UploadCase::kLeftPending || p.upload.kind == UploadCase::kStuck)
      policy.recall_when_interrupted.insert(FileName(p, p.upload.track));
    if (p.upload.kind == UploadCase::kAbnormal && rerecord_allowed)
      policy.rerecord_when_abnormal.insert(FileName(p, p.upload.track));
  }
  // Forty candidates hold every case (MakePlans deals them per block of thirty).
  for (UploadCase c : {UploadCase::kLeftPending, UploadCase::kSlow, UploadCase::kPauses, UploadCase::kPhoneOffline,
                       UploadCase::kStuck, UploadCase::kAbnormal})
    ASSERT_GT(planned[c], 0) << UploadCaseName(c);
  ASSERT_GT(cameras_planned, 0);
  if (!rerecord_allowed)
    std::cerr << "NOTE: the demo exam does not permit re-recording; the \"rerecord\" path is not exercised\n";

  SimulatorStats st;
  int recalls_sent = 0, rerecords_allowed = 0;
  std::string desk_error;
  {
    StaffDesk desk(backend);
    UploadDesk support(backend, policy);
    sim.Start();
    // Settled: no candidate has anything of its own left, and every file is complete but the
    // abnormal ones (whose re-recordings, where permitted, are complete too).
    auto settled = [&] {
      if (!sim.Finished()) return false;
      const auto s = sim.Stats();
      if (rerecord_allowed && s.rerecords_completed < s.uploads_abnormal) return false;
      for (const auto& f : backend.Uploads(/*incomplete_only=*/true))
        if (f.state() != v1::UPLOAD_STATE_ABNORMAL) return false;
      return true;
    };
    const bool done = PollUntil(settled, 150s, 100ms);
    st = sim.Stats();
    recalls_sent = support.recalls();
    rerecords_allowed = support.rerecords_allowed();
    desk_error = support.last_error();
    ASSERT_TRUE(done) << Summary(st) << "; support: " << desk_error;
  }
  sim.Stop();
  std::cerr << Summary(st) << "\n";

  std::map<int64_t, std::string> reg_by_session;
  for (const auto& s : backend.Sessions()) reg_by_session[s.id()] = s.registration_no();
  std::map<std::string, const CandidatePlan*> by_reg;
  for (const auto& p : plans) by_reg[p.registration_no] = &p;
  std::map<std::string, std::map<std::string, v1::UploadFile>> files;  // registration -> name -> file
  for (const auto& f : backend.Uploads()) files[reg_by_session.at(f.session_id())][f.name()] = f;
  ASSERT_FALSE(files.empty());

  std::map<UploadCase, int> seen;
  int second_camera_files = 0;
  for (const auto& [reg, named] : files) {
    const CandidatePlan& p = *by_reg.at(reg);
    SCOPED_TRACE(p.Describe());
    seen[p.upload.kind]++;
    // Every device that recorded announced its own files, and only those.
    std::set<std::string> want = {FileName(p, Track::kCamera), FileName(p, Track::kScreen),
                                  FileName(p, Track::kEvidence)};
    if (p.has_second_camera) want.insert(FileName(p, Track::kSecondCamera));
    if (p.upload.kind == UploadCase::kAbnormal && rerecord_allowed) want.insert(RerecordName(p, p.upload.track));
    std::set<std::string> got;
    for (const auto& [name, f] : named) got.insert(name);
    EXPECT_EQ(got, want);

    for (const auto& [name, listed] : named) {
      SCOPED_TRACE(name);
      const v1::UploadFile f = backend.Upload(listed.id());
      const bool abnormal = p.upload.kind == UploadCase::kAbnormal && name == FileName(p, p.upload.track);
      switch (f.kind()) {
        case v1::TRACK_KIND_CAMERA:
        case v1::TRACK_KIND_SCREEN:
          EXPECT_EQ(f.device(), v1::DEVICE_KIND_LAPTOP);
          EXPECT_EQ(f.device_model(), p.laptop_model);
          break;
        case v1::TRACK_KIND_EVIDENCE:
          EXPECT_EQ(f.device(), v1::DEVICE_KIND_EVIDENCE_PHONE);
          EXPECT_EQ(f.device_model(), p.phone_model);
          break;
        case v1::TRACK_KIND_SECOND_CAMERA:
          ++second_camera_files;
          EXPECT_TRUE(p.has_second_camera);
          EXPECT_EQ(f.device(), v1::DEVICE_KIND_SECOND_CAMERA);
          EXPECT_EQ(f.device_model(), p.second_camera_model);
          break;
        default: ADD_FAILURE() << "track " << f.kind();
      }
      if (abnormal) {
        EXPECT_EQ(v1::UploadState_Name(f.state()), "UPLOAD_STATE_ABNORMAL");
        EXPECT_EQ(f.abnormal_reason(), p.upload.failure);
        EXPECT_EQ(f.committed(), 0);
        EXPECT_EQ(f.rerecord_allowed(), rerecord_allowed);
        continue;
      }
      // Complete, and the bytes the backend stored are the ones the device announced.
      ASSERT_EQ(v1::UploadState_Name(f.state()), "UPLOAD_STATE_COMPLETE") << Kinds(f);
      EXPECT_EQ(f.committed(), f.size());
      const auto path = store::RecordingStore(backend.media_dir()).CompletePath(f.id(), f.name());
      const std::string bytes = ReadWhole(path);
      EXPECT_EQ(static_cast<int64_t>(bytes.size()), f.size()) << path;
      EXPECT_EQ(Sha256Hex(bytes), f.sha256()) << path;

      const bool planned_file = p.upload.kind != UploadCase::kNormal && name == FileName(p, p.upload.track);
      if (!planned_file) continue;
      switch (p.upload.kind) {
        case UploadCase::kPauses:
        case UploadCase::kPhoneOffline:
          // Quiet for longer than two minutes mid-file, then resumed from the committed offset.
          EXPECT_TRUE(InterruptedThenResumed(f)) << Kinds(f);
          break;
        case UploadCase::kLeftPending:
        case UploadCase::kStuck:
          EXPECT_TRUE(HasHistory(f, "recall")) << Kinds(f);
          EXPECT_TRUE(InterruptedThenResumed(f)) << Kinds(f);
          break;
        case UploadCase::kSlow: {
          // At the rate the backend measured, the file could not have made the deadline.
          ASSERT_TRUE(f.has_session_ended_at());
          EXPECT_GT(f.rate(), 0);
          EXPECT_LT(f.rate() * 2 * 3600, static_cast<double>(f.size())) << "rate " << f.rate();
          break;
        }
        default: break;
      }
    }
  }

  // Every case reached the backend.
  for (UploadCase c : {UploadCase::kLeftPending, UploadCase::kSlow, UploadCase::kPauses, UploadCase::kPhoneOffline,
                       UploadCase::kStuck, UploadCase::kAbnormal})
    EXPECT_EQ(seen[c], planned[c]) << UploadCaseName(c);
  EXPECT_EQ(second_camera_files, cameras_planned);

  // The simulator's own account agrees.
  EXPECT_EQ(st.second_cameras, cameras_planned);
  EXPECT_EQ(st.uploads_paused, pauses_planned);
  EXPECT_EQ(st.devices_offline, planned[UploadCase::kPhoneOffline]);
  EXPECT_EQ(st.devices_back, st.devices_offline);
  EXPECT_EQ(st.uploads_resumed, st.uploads_paused + st.devices_back);
  EXPECT_EQ(st.uploads_stuck, planned[UploadCase::kStuck]);
  EXPECT_EQ(st.uploads_unstuck, planned[UploadCase::kStuck]);
  EXPECT_GT(st.stuck_chunks_refused, 0);
  EXPECT_EQ(st.uploads_pending, 0);  // every one recalled
  EXPECT_EQ(st.recalls_handled, planned[UploadCase::kLeftPending] + planned[UploadCase::kStuck]);
  EXPECT_EQ(recalls_sent, st.recalls_handled);
  EXPECT_EQ(st.uploads_abnormal, planned[UploadCase::kAbnormal]);
  EXPECT_EQ(st.slow_uploads, planned[UploadCase::kSlow]);
  EXPECT_GE(st.uploads_late, st.slow_uploads);  // done, after the deadline
  if (rerecord_allowed) {
    EXPECT_EQ(rerecords_allowed, planned[UploadCase::kAbnormal]);
    EXPECT_EQ(st.rerecords, planned[UploadCase::kAbnormal]);
    EXPECT_EQ(st.rerecords_completed, planned[UploadCase::kAbnormal]);
  } else {
    EXPECT_EQ(st.rerecords, 0);
  }
  int total_files = 0;
  for (const auto& [reg, named] : files) total_files += static_cast<int>(named.size());
  EXPECT_EQ(st.uploads_begun, total_files);
  EXPECT_EQ(st.uploads_completed, total_files - st.uploads_abnormal);
  // Only an abnormal file nobody allowed to re-record may have been given up, at its deadline.
  EXPECT_LE(st.uploads_expired, rerecord_allowed ? 0 : planned[UploadCase::kAbnormal]);
  EXPECT_EQ(st.uploads_refused, 0);
  EXPECT_EQ(st.uploads_unimplemented, 0);
  EXPECT_EQ(st.rpc_errors, 0);
  EXPECT_EQ(st.failed, 0);
  EXPECT_TRUE(desk_error.empty()) << desk_error;
}

}  // namespace
}  // namespace exam::sim
