#pragma once
// Every UI string in Chinese and English, in one table: panels name a string by its id, and
// the font loader walks the table so that each Chinese character used is in the atlas.
#include <functional>
#include <string>
#include <string_view>

#include "core/stage.h"
#include "ui/strings_appeals.h"
#include "ui/strings_help.h"
#include "ui/strings_live.h"
#include "ui/strings_review.h"

// X(id, 中文, English)
#define EXAM_UI_STRINGS(X)                                                              \
  X(kAppTitle, "考试监控台", "Exam Console")                                            \
  X(kMenuFile, "文件", "File")                                                          \
  X(kMenuView, "视图", "View")                                                          \
  X(kMenuConnection, "连接", "Connection")                                              \
  X(kMenuLanguage, "语言", "Language")                                                  \
  X(kQuit, "退出", "Quit")                                                              \
  X(kLocalDataMenu, "本地数据…", "Local data…")                                         \
  X(kLocalDataTitle, "本地数据", "Local data")                                          \
  X(kLocalDataIntro, "本机保存的个人数据：", "Personal data kept on this computer:")     \
  X(kLocalDataWhat, "内容", "What")                                                     \
  X(kLocalDataWhere, "位置", "Where")                                                   \
  X(kLocalDataSize, "大小", "Size")                                                     \
  X(kLocalDataOutbox, "操作队列：%d 项，%d 项未送达", "Actions: %d, %d not delivered")   \
  X(kLocalDataNoOutbox, "操作队列：未登录", "Actions: nobody signed in")                 \
  X(kLocalDataCache, "录像缓存：%lld 块", "Recording cache: %lld blocks")                \
  X(kLocalDataCacheOff, "录像缓存不可用：%s", "Recording cache unavailable: %s")          \
  X(kLocalDataPolicy, "已送达的操作保留 24 小时且不含图片；录像缓存最多 512 MiB，最久未用的先删除。", \
    "Delivered actions are kept 24 h, without pictures; recordings up to 512 MiB, least recently used go first.") \
  X(kLocalDataDiscard, "同时丢弃 %d 项未送达的操作（它们将不会到达后端）",                   \
    "Also discard %d undelivered actions (they will never reach the backend)")          \
  X(kLocalDataKeepsUndelivered, "未送达的操作会保留并继续发送。",                        \
    "Undelivered actions are kept and still sent.")                                     \
  X(kLocalDataWipe, "清除本地数据…", "Wipe local data…")                                \
  X(kLocalDataConfirm, "从本机删除这些数据？无法撤销。", "Delete this data from this computer? This cannot be undone.") \
  X(kLocalDataWipeNow, "清除", "Wipe")                                                  \
  X(kLocalDataCancel, "取消", "Cancel")                                                 \
  X(kLocalDataClose, "关闭", "Close")                                                   \
  X(kLocalDataRefresh, "刷新", "Refresh")                                               \
  X(kLocalDataSurveying, "正在统计…", "Measuring…")                                     \
  X(kLocalDataWiping, "正在清除…", "Wiping…")                                           \
  X(kLocalDataWiped, "已清除：%d 项操作，%s 录像；操作文件现为 %s。",                      \
    "Wiped: %d actions and %s of recordings; the actions file is now %s.")               \
  X(kLocalDataFailed, "清除失败：%s", "Wipe failed: %s")                                 \
  X(kReconnectNow, "立即重连", "Reconnect now")                                         \
  X(kSignInAgain, "重新登录…", "Sign in again…")                                        \
  X(kLangZh, "中文", "中文")                                                            \
  X(kLangEn, "English", "English")                                                      \
  X(kStateSignedOut, "未登录", "Signed out")                                            \
  X(kStateConnecting, "连接中", "Connecting")                                           \
  X(kStateLoggingIn, "登录中", "Signing in")                                            \
  X(kStateLoading, "加载中", "Loading")                                                 \
  X(kStateOnline, "在线", "Online")                                                     \
  X(kStateReconnecting, "重连中", "Reconnecting")                                       \
  X(kStateAuthFailed, "登录失败", "Sign-in failed")                                     \
  X(kStateStopped, "已停止", "Stopped")                                                 \
  X(kRoleProctor, "监考", "Proctor")                                                    \
  X(kRoleGrader, "评委", "Grader")                                                      \
  X(kRoleSupport, "技术支持", "Support")                                                \
  X(kRoleAdmin, "管理员", "Administrator")                                              \
  X(kRoleCandidate, "考生设备", "Candidate device")                                     \
  X(kBackendClock, "后端时钟", "Backend clock")                                         \
  X(kLastSeq, "序号", "Seq")                                                            \
  X(kLag, "延迟", "Lag")                                                                \
  X(kReconnects, "重连", "Reconnects")                                                  \
  X(kEvents, "事件", "Events")                                                          \
  X(kLoginTitle, "登录", "Sign in")                                                     \
  X(kLoginPrompt, "使用工作人员账号登录考试后台", "Sign in to the exam backend with your staff account") \
  X(kServer, "服务器", "Server")                                                        \
  X(kUsername, "用户名", "Username")                                                    \
  X(kPassword, "密码", "Password")                                                      \
  X(kSignIn, "登录", "Sign in")                                                         \
  X(kSigningIn, "正在登录…", "Signing in…")                                             \
  X(kOverview, "总览", "Overview")                                                      \
  X(kEventLog, "事件日志", "Event log")                                                 \
  X(kRooms, "考场", "Rooms")                                                            \
  X(kRoom, "考场", "Room")                                                              \
  X(kAllRooms, "全部考场", "All rooms")                                                 \
  X(kSessions, "考生", "Candidates")                                                    \
  X(kCandidates, "考生", "Candidates")                                                  \
  X(kDrawNo, "抽签号", "Draw #")                                                        \
  X(kName, "姓名", "Name")                                                              \
  X(kRegNo, "准考证号", "Registration no.")                                             \
  X(kStage, "阶段", "Stage")                                                            \
  X(kQuestion, "题目", "Question")                                                      \
  X(kRemaining, "剩余", "Left")                                                         \
  X(kInterruptions, "中断", "Interruptions")                                            \
  X(kHelp, "求助", "Help")                                                              \
  X(kAlerts, "告警", "Alerts")                                                          \
  X(kAppeal, "申诉", "Appeal")                                                          \
  X(kAppeals, "人工审核", "Appeals")                                                    \
  X(kAppealPending, "待审核", "Pending")                                                \
  X(kDevices, "设备", "Devices")                                                        \
  X(kOutcome, "结果", "Outcome")                                                        \
  X(kInterrupted, "中断中", "Interrupted")                                              \
  X(kOffline, "离线", "offline")                                                        \
  X(kFilter, "搜索考生", "Search candidates")                                           \
  X(kNoSessions, "没有可见的考生", "No candidates visible")                             \
  X(kNoSessionsHint, "当前账号没有分配考场，或考试尚无考生。", "No rooms are assigned to this account, or the exam has no candidates yet.") \
  X(kNoMatch, "没有符合条件的考生", "No candidates match the filter")                   \
  X(kWaitingForBackend, "正在连接考试后台…", "Connecting to the exam backend…")         \
  X(kNoEvents, "暂无事件", "No events yet")                                             \
  X(kStartsIn, "距开考", "Starts in")                                                   \
  X(kStartedAgo, "已开考", "Started")                                                   \
  X(kExamKindInterview, "面试", "Interview")                                            \
  X(kExamKindTest, "笔试", "Test")                                                      \
  X(kQuestions, "题", "questions")                                                      \
  X(kTotal, "合计", "Total")                                                            \
  X(kTime, "时间", "Time")                                                              \
  X(kKind, "类型", "Kind")                                                              \
  X(kDetail, "详情", "Detail")                                                          \
  X(kLaptop, "电脑", "Laptop")                                                          \
  X(kPhone, "佐证手机", "Evidence phone")                                               \
  X(kSecondCamera, "二机位", "Second camera")                                           \
  X(kEvStageChanged, "阶段变更", "Stage changed")                                       \
  X(kEvFaceCheck, "人脸核验", "Face check")                                             \
  X(kEvAlertRaised, "告警", "Alert")                                                    \
  X(kEvAlertAck, "告警已确认", "Alert acknowledged")                                    \
  X(kEvHelpRaised, "求助", "Help raised")                                               \
  X(kEvHelpUpdated, "求助更新", "Help updated")                                         \
  X(kEvAppealFiled, "提交申诉", "Appeal filed")                                         \
  X(kEvAppealUpdated, "申诉更新", "Appeal updated")                                     \
  X(kEvInterruptionStarted, "录制中断", "Recording interrupted")                        \
  X(kEvInterruptionEnded, "录制恢复", "Recording resumed")                              \
  X(kEvQuestionShown, "显示题目", "Question shown")                                     \
  X(kEvAnswerComplete, "该题回答完毕", "Answer complete")                               \
  X(kEvViolation, "记录违规", "Violation recorded")                                     \
  X(kEvProctorMessage, "监考消息", "Proctor message")                                   \
  X(kEvSessionEnded, "考试结束", "Session ended")                                       \
  X(kEvUploadProgress, "上传进度", "Upload progress")                                   \
  X(kEvDeviceChanged, "设备变化", "Device changed")                                     \
  X(kEvUnknown, "其他", "Other")                                                        \
  X(kProgress, "进度", "Progress")                                                      \
  X(kNeedsAttention, "需要关注", "Needs attention")                                     \
  X(kNobodyNeedsAttention, "暂无需要关注的考生", "Nobody needs attention")              \
  X(kUploads, "录像上传", "Uploads")                                                   \
  X(kUploadsSummary, "%d/%d 个文件已完成，%d 个有逾期风险，%d 个异常，%d 个停滞，%d 个设备离线", "%d/%d files complete, %d at risk, %d abnormal, %d stuck, %d offline") \
  X(kUploadsCandidates, "%d 名考生仍有未完成的文件", "%d candidates still have files to upload") \
  X(kGroupLate, "逾期风险", "At risk")                          \
  X(kGroupStuck, "上传停滞", "Stuck")                                                   \
  X(kGroupOffline, "设备离线", "Offline")                                        \
  X(kGroupAbnormal, "录制异常", "Abnormal")                                             \
  X(kGroupWaiting, "等待上传", "Waiting")                                               \
  X(kGroupOnTrack, "正常上传", "On track")                                              \
  X(kGroupComplete, "已完成", "Complete")                                               \
  X(kUploadSearch, "抽签号 / 姓名 / 机型", "Draw # / name / device")                    \
  X(kShowComplete, "显示已完成", "Show complete")                                       \
  X(kExam, "考试", "Exam")                                                              \
  X(kFile, "文件", "File")                                                              \
  X(kDevice, "设备", "Device")                                                          \
  X(kRate, "速率", "Rate")                                                              \
  X(kEta, "预计完成", "ETA")                                                            \
  X(kDeadline, "截止", "Deadline")                                                      \
  X(kState, "状态", "State")                                                            \
  X(kAction, "操作", "Action")                                                          \
  X(kHistory, "记录", "History")                                                        \
  X(kLastProgress, "最近进度", "Last progress")                                          \
  X(kNoticeHelp, "考生求助", "Help requested")                                           \
  X(kNoticeAppealInExam, "考中人工审核申诉（30 分钟内处理）", "Appeal during the exam (30 min SLA)") \
  X(kNoticeAppealEscalated, "申诉即将超时（不足 5 分钟）", "Appeal due in under 5 min")     \
  X(kNoticeAppealBreached, "申诉已超时", "Appeal past its deadline")                     \
  X(kOpen, "处理", "Open")                                                              \
  X(kDismiss, "忽略", "Dismiss")                                                        \
  X(kDismissAll, "全部忽略", "Dismiss all")                                             \
  X(kMoreNotices, "还有 %d 条提醒", "%d more notices")                                   \
  X(kAgo, "前", "ago")                                                                  \
  X(kNoticesWaiting, "%d 条提醒待处理（展开）", "%d notices waiting (show)")            \
  X(kCollapse, "收起", "Hide")                                                          \
  X(kUpRecording, "录制中", "Recording")                                                \
  X(kUpPending, "待上传", "Pending")                                                    \
  X(kUpUploading, "上传中", "Uploading")                                                \
  X(kUpInterrupted, "已中断", "Interrupted")                                            \
  X(kUpComplete, "已完成", "Complete")                                                  \
  X(kUpAbnormal, "异常", "Abnormal")                                                    \
  X(kRecall, "催传", "Recall")                                                          \
  X(kExtend, "延长截止", "Extend deadline")                                             \
  X(kMarkAbnormal, "标记异常", "Mark abnormal")                                         \
  X(kNoteContact, "记录联系", "Note contact")                                           \
  X(kAllowRerecord, "允许重新录制", "Allow re-record")                                  \
  X(kRerecordNotPermitted, "本场考试不允许重录", "This exam does not permit re-recording") \
  X(kReason, "原因", "Reason")                                                          \
  X(kNote, "备注", "Note")                                                              \
  X(kMinutes, "分钟", "min")                                                            \
  X(kSend, "提交", "Submit")                                                            \
  X(kCancel, "取消", "Cancel")                                                          \
  X(kReasonRequired, "请填写原因", "A reason is required")                              \
  X(kActionPending, "待发送", "Pending")                                                \
  X(kActionSending, "发送中", "Sending")                                                \
  X(kActionConfirmed, "已确认", "Confirmed")                                            \
  X(kActionFailed, "失败", "Failed")                                                    \
  X(kRecallOutstanding, "已催传", "Recall sent")                                        \
  X(kNoUploads, "暂无需要处理的上传", "No uploads need attention")                      \
  X(kNoUploadsHint, "考试结束后，考生设备上的录像会出现在这里。", "Recordings still on candidates' devices appear here after the exam.") \
  X(kNoExam, "没有考试", "No exam")                                                     \
  X(kSelectFile, "选择一个文件查看记录和操作", "Select a file to see its history and actions") \
  X(kUploadsForSupport, "上传恢复仅对技术支持开放", "Upload recovery is for support staff") \
  X(kLoadingUploads, "正在加载上传列表…", "Loading uploads…")                           \
  X(kNotEnded, "考试进行中", "exam running")                                            \
  X(kOverdue, "已逾期", "overdue")                                                      \
  X(kWorkspace, "工作区", "Workspace")                                                  \
  X(kUploadKeys, "↑↓ 选择  R 催传  E 延长  Ctrl+F 搜索", "↑↓ select  R recall  E extend  Ctrl+F search") \
  X(kError, "错误", "Error")

namespace exam::ui {

enum class Lang { kZh, kEn };

struct Text {
  const char* zh;
  const char* en;
};

namespace str {
#define EXAM_UI_STRING_CONSTANT(id, zh, en) inline constexpr Text id{zh, en};
EXAM_UI_STRINGS(EXAM_UI_STRING_CONSTANT)
EXAM_UI_STRINGS_APPEALS(EXAM_UI_STRING_CONSTANT)
EXAM_UI_STRINGS_HELP(EXAM_UI_STRING_CONSTANT)
EXAM_UI_STRINGS_LIVE(EXAM_UI_STRING_CONSTANT)
EXAM_UI_STRINGS_REVIEW(EXAM_UI_STRING_CONSTANT)
#undef EXAM_UI_STRING_CONSTANT
}  // namespace str

Lang CurrentLang();
void SetLang(Lang lang);

inline const char* Tr(const Text& text) { return CurrentLang() == Lang::kZh ? text.zh : text.en; }
// "<text>###<id>": a label whose ImGui id does not change with the language.
std::string Label(const Text& text, const char* id);

std::string_view StageName(core::Stage stage);
std::string_view OutcomeName(core::Outcome outcome);

// Calls `visit` with every string the UI may show in either language (the table above plus
// the stage and outcome names from core), for building the font atlas.
void ForEachUiString(const std::function<void(const char*)>& visit);

}  // namespace exam::ui
