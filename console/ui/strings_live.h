#pragma once
// Strings of the live wall workspace (监考墙): tiles, badges, focus view and actions.
// X(id, 中文, English); pulled into the one string table by ui/strings.h.
#define EXAM_UI_STRINGS_LIVE(X)                                                                         \
  X(kLiveWorkspace, "监考墙", "Live wall")                                                              \
  X(kLiveAllRooms, "全部考场", "All rooms")                                                             \
  X(kLiveLoading, "正在加载考场…", "Loading rooms…")                                                    \
  X(kLiveNoSessions, "本考场暂无考生", "No candidates in this room")                                     \
  X(kLiveGrid, "宫格", "Grid")                                                                          \
  X(kLiveGridAuto, "自动", "Auto")                                                                      \
  X(kLivePage, "第 %d/%d 页", "Page %d/%d")                                                             \
  X(kLiveDrawNo, "%d 号", "#%d")                                                                        \
  X(kLiveNotDrawn, "未抽签", "Not drawn")                                                               \
  X(kLiveQuestion, "第 %d/%d 题", "Q %d/%d")                                                            \
  X(kLiveBadgeHelp, "求助", "Help")                                                                     \
  X(kLiveBadgeAlerts, "告警 %d", "Alerts %d")                                                           \
  X(kLiveBadgeAppeal, "申诉待审", "Appeal pending")                                                     \
  X(kLiveBadgeInterrupted, "中断中（第 %d 次）", "Interrupted (#%d)")                                   \
  X(kLiveBadgeInterruptions, "中断 %d 次", "%d interruptions")                                          \
  X(kLiveBadgeEvidenceLost, "佐证断开", "Evidence camera lost")                                         \
  X(kLiveBadgeUploadLag, "待上传 %d", "Uploads pending %d")                                             \
  X(kLiveNoVideo, "无画面 %d 秒", "No video %d s")                                                      \
  X(kLiveConnecting, "正在连接视频…", "Connecting video…")                                              \
  X(kLiveNoStream, "暂无视频流", "No video stream")                                                     \
  X(kLiveEnded, "已结束", "Ended")                                                                      \
  X(kLiveDecodeError, "解码错误", "Decode error")                                                       \
  X(kLiveShaderError, "视频着色器不可用", "Video shaders unavailable")                                  \
  X(kLiveAttentionFirst, "优先关注在前", "Needs attention first")                                       \
  X(kLiveStreams, "视频 %d 路 · 解码 %d 路", "%d streams · %d decoding")                                \
  X(kFocusBack, "← 返回监考墙", "← Back to wall")                                                      \
  X(kFocusCamera, "摄像头", "Camera")                                                                   \
  X(kFocusScreen, "屏幕", "Screen")                                                                     \
  X(kFocusEvidence, "佐证手机", "Evidence phone")                                                       \
  X(kFocusHistory, "事件记录", "Event history")                                                         \
  X(kFocusHistoryLoading, "正在加载事件…", "Loading events…")                                           \
  X(kFocusHistoryEmpty, "暂无事件", "No events yet")                                                    \
  X(kFocusHistoryError, "无法加载事件：%s", "Cannot load events: %s")                                   \
  X(kFocusAlerts, "未处理告警", "Open alerts")                                                          \
  X(kFocusNoAlerts, "无未处理告警", "No open alerts")                                                   \
  X(kFocusAck, "确认", "Acknowledge")                                                                   \
  X(kFocusMessage, "消息 / 警告", "Message / warning")                                                  \
  X(kFocusMessageHint, "发给考生的话…", "Words to the candidate…")                                      \
  X(kFocusSendMessage, "发送消息", "Send message")                                                      \
  X(kFocusSendWarning, "正式警告", "Formal warning")                                                    \
  X(kFocusViolation, "记录违规", "Record violation")                                                    \
  X(kFocusCategory, "类别", "Category")                                                                 \
  X(kFocusNote, "说明", "Note")                                                                         \
  X(kFocusNoteRequired, "选“其他”时须写说明", "“Other” needs a note")                                   \
  X(kFocusTakeSnapshot, "截取画面", "Take snapshot")                                                    \
  X(kFocusSnapshotTaken, "已截图（%s %d×%d，%d KB）", "Snapshot (%s %d×%d, %d KB)")                     \
  X(kFocusNoSnapshot, "尚无画面可截", "No picture to take yet")                                         \
  X(kFocusRecord, "记录违规", "Record")                                                                 \
  X(kFocusEndExam, "结束考试…", "End exam…")                                                            \
  X(kFocusEndTitle, "结束该考生的考试", "End this candidate's exam")                                    \
  X(kFocusEndWarning, "考试将立即结束，考生无法继续作答，且不可撤销。", "The exam ends at once; the candidate cannot go on. This cannot be undone.") \
  X(kFocusEndReason, "原因（必填）", "Reason (required)")                                               \
  X(kFocusEndConfirm, "确认结束考试", "Confirm: end exam")                                              \
  X(kFocusCancel, "取消", "Cancel")                                                                     \
  X(kFocusActions, "我的操作", "My actions")                                                            \
  X(kFocusNoActions, "暂无操作", "No actions yet")                                                      \
  X(kFocusEnded, "考试已结束", "Exam ended")                                                            \
  X(kFocusHint, "Esc 返回 · ←→ 换考生 · A 确认告警 · M 消息 · V 违规 · H 处理求助",                     \
    "Esc: back · ←→: candidate · A: acknowledge · M: message · V: violation · H: take help")           \
  X(kActAck, "确认告警", "Acknowledge alert")                                                           \
  X(kActMessage, "消息", "Message")                                                                     \
  X(kActWarn, "警告", "Warning")                                                                        \
  X(kActViolation, "违规", "Violation")                                                                 \
  X(kActEnd, "结束考试", "End exam")                                                                    \
  X(kVioSecondScreen, "多屏", "Second screen")                                                          \
  X(kVioFilter, "滤镜/美颜", "Filter / beauty effect")                                                  \
  X(kVioFaceCovered, "遮挡面部/耳部", "Face or ears covered")                                           \
  X(kVioMask, "佩戴口罩", "Mask")                                                                       \
  X(kVioEarphones, "佩戴耳机", "Earphones")                                                             \
  X(kVioLeftSeat, "离开座位", "Left the seat")                                                          \
  X(kVioOtherVoices, "其他人声", "Other voices")                                                        \
  X(kVioScreenSwitch, "切屏/截屏", "Screen switch / capture")                                           \
  X(kVioIdentity, "泄露身份", "Identity revealed")                                                      \
  X(kVioOther, "其他", "Other")                                                                         \
  X(kAlertInterruption, "录制中断", "Recording interrupted")                                            \
  X(kAlertEvidenceLost, "佐证设备离线", "Evidence camera lost")                                         \
  X(kAlertFaceCheck, "人脸核验多次失败", "Face check failed repeatedly")                                \
  X(kAlertSuspected, "疑似违规", "Suspected violation")                                                 \
  X(kAlertLate, "未按时进入", "Late to enter")                                                          \
  X(kLiveHint, "方向键选择 · 回车详情 · A 确认告警 · H 处理求助 · 数字键 1–9 切换考场",                 \
    "Arrows: select · Enter: details · A: acknowledge · H: take help · 1–9: switch room")
