#include "core/stage.h"

namespace exam::core {

Stage NextStage(Stage s) {
  if (s == Stage::kEnded) return Stage::kEnded;
  return static_cast<Stage>(static_cast<int>(s) + 1);
}

bool IsValidStage(int value) { return value >= 1 && value <= kStageCount; }

std::string_view StageNameEn(Stage s) {
  switch (s) {
    case Stage::kDeviceCheck: return "Device check";
    case Stage::kFaceLogin: return "Face login";
    case Stage::kEvidenceBinding: return "Evidence binding";
    case Stage::kDraw: return "Draw";
    case Stage::kReadAttachments: return "Read attachments";
    case Stage::kEnter: return "Enter";
    case Stage::kDeviceConfirm: return "Waiting room";
    case Stage::kAnswering: return "Answering";
    case Stage::kEnded: return "Ended";
    case Stage::kUnspecified: break;
  }
  return "Not started";
}

std::string_view StageNameZh(Stage s) {
  switch (s) {
    case Stage::kDeviceCheck: return "设备准备";
    case Stage::kFaceLogin: return "人脸登录";
    case Stage::kEvidenceBinding: return "佐证绑定";
    case Stage::kDraw: return "抽签";
    case Stage::kReadAttachments: return "阅读附件";
    case Stage::kEnter: return "进入考试";
    case Stage::kDeviceConfirm: return "候考";
    case Stage::kAnswering: return "答题中";
    case Stage::kEnded: return "已结束";
    case Stage::kUnspecified: break;
  }
  return "未开始";
}

std::string_view OutcomeNameEn(Outcome o) {
  switch (o) {
    case Outcome::kInProgress: return "In progress";
    case Outcome::kCompleted: return "Completed";
    case Outcome::kEndedEarly: return "Ended early";
    case Outcome::kForfeited: return "Forfeited";
    case Outcome::kTerminated: return "Terminated";
    case Outcome::kIdentityRejected: return "Identity rejected";
    case Outcome::kUnspecified: break;
  }
  return "Unknown";
}

std::string_view OutcomeNameZh(Outcome o) {
  switch (o) {
    case Outcome::kInProgress: return "进行中";
    case Outcome::kCompleted: return "已完成";
    case Outcome::kEndedEarly: return "提前结束";
    case Outcome::kForfeited: return "视为放弃";
    case Outcome::kTerminated: return "已终止";
    case Outcome::kIdentityRejected: return "身份未通过";
    case Outcome::kUnspecified: break;
  }
  return "未知";
}

}  // namespace exam::core
