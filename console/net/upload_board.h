#pragma once
// Support's uploads board for one exam: every file assessed by the shared upload rules
// (core/upload_rules.h), grouped by what needs doing first, filtered by a search, with the
// counts for the summary line. Plain data, no UI: the panel draws it, tests check it.
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/upload_rules.h"
#include "exam/v1/upload.pb.h"

namespace exam::net {

struct UploadBoardRow {
  const exam::v1::UploadFile* file = nullptr;  // points into the list the board was built from
  core::UploadOutlook outlook;
};

struct UploadCounts {
  int files = 0;
  int complete = 0;
  int late = 0;  // at risk: deadline passed or projected after it
  int stuck = 0;
  int offline = 0;
  int abnormal = 0;
  int waiting = 0;
  int on_track = 0;
  int candidates = 0;             // with at least one file
  int candidates_incomplete = 0;  // with anything not complete
};

struct UploadBoard {
  std::vector<UploadBoardRow> rows;  // by urgency, then least time left, then draw number
  UploadCounts counts;               // over every file, before the search
};

struct UploadBoardQuery {
  // Draw number (exact) or part of the candidate's name or device model; empty: all.
  std::string_view search;
  bool include_complete = false;
  // Only files of sessions in this room; 0: every room.
  int64_t room_id = 0;
};

core::UploadFacts FactsOf(const exam::v1::UploadFile& file);

UploadBoard BuildUploadBoard(const std::vector<exam::v1::UploadFile>& files, int64_t now_unix_ms,
                             const UploadBoardQuery& query, const core::UploadRiskRules& rules = {});

}  // namespace exam::net
