#pragma once
// Strings of the review workspace (评审回放): session list, player, timeline, score sheet.
// X(id, 中文, English); pulled into the one string table by ui/strings.h.
#define EXAM_UI_STRINGS_REVIEW(X)                                                                                \
  X(kReviewWorkspace, "评审回放", "Review")                                                                      \
  X(kRvExam, "考试", "Exam")                                                                                     \
  X(kRvSessions, "待评审（%d）", "To review (%d)")                                                               \
  X(kRvNoSessions, "该考试暂无可评审的录像", "No recorded sessions to review in this exam")                      \
  X(kRvLoading, "正在加载…", "Loading…")                                                                         \
  X(kRvPickSession, "从左侧选择一位考生开始评审", "Pick a candidate on the left to start reviewing")             \
  X(kRvIncomplete, "录像未齐", "incomplete")                                                                     \
  X(kRvTracks, "%d 路录像", "%d recordings")                                                                     \
  X(kRvScreen, "屏幕", "Screen")                                                                                 \
  X(kRvCamera, "摄像头", "Camera")                                                                               \
  X(kRvEvidence, "佐证手机", "Evidence phone")                                                                   \
  X(kRvSecondCamera, "二机位", "Second camera")                                                                  \
  X(kRvNoRecording, "无录像", "No recording")                                                                    \
  X(kRvNoRecordingUntil, "无录像（%s 恢复）", "No recording (resumes %s)")                                       \
  X(kRvOpening, "正在打开录像…", "Opening recording…")                                                           \
  X(kRvDecoding, "解码中…", "Decoding…")                                                                         \
  X(kRvFailed, "无法播放：%s", "Cannot play: %s")                                                                \
  X(kRvSoundOnly, "仅有声音，无画面", "Sound only, no picture")                                                  \
  X(kRvMissing, "缺少录像：%s（%s，已传 %s / %s）", "Missing: %s (%s, %s of %s in)")                             \
  X(kRvPlay, "播放", "Play")                                                                                     \
  X(kRvPause, "暂停", "Pause")                                                                                   \
  X(kRvSpeed, "倍速", "Speed")                                                                                   \
  X(kRvPrevQuestion, "上一题", "Previous question")                                                              \
  X(kRvNextQuestion, "下一题", "Next question")                                                                  \
  X(kRvStepBack, "后退一帧", "Frame back")                                                                       \
  X(kRvStepForward, "前进一帧", "Frame forward")                                                                 \
  X(kRvQuestionAt, "第 %d 题", "Question %d")                                                                    \
  X(kRvSound, "声音", "Sound")                                                                                   \
  X(kRvMute, "静音", "Mute")                                                                                     \
  X(kRvSkew, "偏移 %+d ms", "Offset %+d ms")                                                                     \
  X(kRvLaneQuestions, "题目", "Questions")                                                                       \
  X(kRvLaneEvents, "事件", "Events")                                                                             \
  X(kRvLaneNotes, "批注", "Notes")                                                                               \
  X(kRvScoreSheet, "评分表", "Score sheet")                                                                      \
  X(kRvNoRubric, "该考试没有评分表", "This exam has no score sheet")                                              \
  X(kRvScoreOf, "满分 %g", "out of %g")                                                                          \
  X(kRvComment, "评语", "Comment")                                                                               \
  X(kRvSaveScore, "保存", "Save")                                                                                \
  X(kRvSaved, "已保存 %g", "Saved %g")                                                                           \
  X(kRvTotal, "合计 %g / %g", "Total %g / %g")                                                                   \
  X(kRvNotes, "批注", "Notes")                                                                                   \
  X(kRvNoteHint, "在播放位置添加批注…", "Note at the playhead…")                                                 \
  X(kRvAddNote, "添加 (M)", "Add (M)")                                                                           \
  X(kRvNoNotes, "暂无批注", "No notes yet")                                                                      \
  X(kRvScoreLabel, "评分", "Score")                                                                              \
  X(kRvNoteLabel, "批注", "Note")                                                                                \
  X(kRvClip, "证据片段", "Evidence clip")                                                                       \
  X(kRvSetIn, "入点 (I)", "In (I)")                                                                              \
  X(kRvSetOut, "出点 (O)", "Out (O)")                                                                            \
  X(kRvClipQuestion, "本题", "This question")                                                                    \
  X(kRvClipFolder, "保存到文件夹", "Save to folder")                                                             \
  X(kRvExport, "导出", "Export")                                                                                 \
  X(kRvExporting, "正在导出… %d%%", "Exporting… %d%%")                                                           \
  X(kRvExported, "已导出 %d 个文件：%s", "Exported %d files: %s")                                                 \
  X(kRvExportFailed, "导出失败：%s", "Export failed: %s")                                                        \
  X(kRvSkipped, "未导出：%s", "Not exported: %s")                                                                \
  X(kRvCancel, "取消", "Cancel")                                                                                 \
  X(kRvLaneSound, "声音", "Sound")                                                                               \
  X(kRvSkipQuiet, "跳过静音", "Skip quiet")                                                                      \
  X(kRvAnalysing, "正在分析声音…", "Analysing sound…")                                                           \
  X(kRvOffsetEstimate, "声音比对：佐证手机时钟偏差 %+d ms（置信度 %.2f）", "Sound match: evidence clock off by %+d ms (confidence %.2f)") \
  X(kRvOffsetApply, "应用", "Apply")                                                                             \
  X(kRvOffsetNone, "声音比对：无法估计偏移（%s）", "Sound match: no estimate (%s)")                               \
  X(kRvFlagPrev, "上个标记", "Previous flag")                                                                    \
  X(kRvFlagNext, "下个标记", "Next flag")                                                                        \
  X(kRvFlagConfirm, "确认", "Confirm")                                                                           \
  X(kRvFlagDismiss, "驳回", "Dismiss")                                                                           \
  X(kRvFlagAt, "标记：%s", "Flag: %s")                                                                           \
  X(kRvFlagConfirmed, "复核确认", "Flag confirmed")                                                              \
  X(kRvFlagDismissed, "复核驳回", "Flag dismissed")                                                              \
  X(kRvOffline, "离线评审", "Offline review")                                                                    \
  X(kRvVerifying, "正在校验文件…", "Checking files…")                                                            \
  X(kRvTampered, "与清单不符（可能被篡改）", "Does not match the manifest (tampered?)")                            \
  X(kRvVerified, "校验通过", "Verified")                                                                         \
  X(kRvFileMissing, "清单中的文件缺失", "Listed in the manifest but missing")                                      \
  X(kRvOfflineNoScores, "离线评审：评分和批注需要连接后台。", "Offline review: scores and notes need the backend.") \
  X(kRvRotated, "已旋转 %d°", "turned %d°")                                                                     \
  X(kRvEnlarge, "点击放大", "Click to enlarge")                                                                 \
  X(kRvHint, "空格 播放/暂停 · ←/→ 逐帧 · [ / ] 上/下一题 · M 批注 · I/O 片段入/出点 · 滚轮 缩放 · 右键拖动 平移",                 \
    "Space: play/pause · ←/→: frame · [ / ]: previous/next question · M: note · I/O: clip in/out · wheel: zoom · right-drag: pan")
