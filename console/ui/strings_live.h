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
  X(kLiveHint, "方向键选择 · 回车放大 · Esc 返回 · H 处理求助 · 数字键 1–9 切换考场",                   \
    "Arrows: select · Enter: enlarge · Esc: back · H: take help · 1–9: switch room")
