#pragma once
// The nine stages of a candidate's session and how a session can end.
#include <cstdint>
#include <string_view>

namespace exam::core {

// Same numbering as exam.v1.Stage so values cross the wire unchanged.
enum class Stage : int {
  kUnspecified = 0,
  kDeviceCheck = 1,      // 设备准备
  kFaceLogin = 2,        // 人脸登录
  kEvidenceBinding = 3,  // 佐证绑定
  kDraw = 4,             // 抽签
  kReadAttachments = 5,  // 阅读考试附件
  kEnter = 6,            // 进入考试
  kDeviceConfirm = 7,    // 设备确认 (then the waiting room, 候考)
  kAnswering = 8,        // 开始答题
  kEnded = 9,            // 结束考试
};

// Same numbering as exam.v1.Outcome.
enum class Outcome : int {
  kUnspecified = 0,
  kInProgress = 1,
  kCompleted = 2,
  kEndedEarly = 3,
  kForfeited = 4,
  kTerminated = 5,
  kIdentityRejected = 6,
};

enum class ExamKind : int { kUnspecified = 0, kInterview = 1, kTest = 2 };

inline constexpr int kStageCount = 9;

// The stage after `s` in the fixed order; kEnded stays kEnded.
Stage NextStage(Stage s);
bool IsValidStage(int value);

std::string_view StageNameEn(Stage s);
std::string_view StageNameZh(Stage s);
std::string_view OutcomeNameEn(Outcome o);
std::string_view OutcomeNameZh(Outcome o);

}  // namespace exam::core
