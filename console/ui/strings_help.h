#pragma once
// Strings of the help desk workspace (求助): queue, conversation and quick replies.
// X(id, 中文, English); pulled into the one string table by ui/strings.h.
// Quick replies say what the candidate manuals (seeds/) tell candidates to do.
#define EXAM_UI_STRINGS_HELP(X)                                                                                     \
  X(kHelpDeskWorkspace, "求助台", "Help desk")                                                                      \
  X(kHelpForStaff, "求助台仅对技术支持、管理员和监考开放", "The help desk is for support staff, administrators and proctors") \
  X(kHelpProctorNote, "监考可查看求助；认领、回复和解决由技术支持负责，后台会拒绝监考的这些操作。",                   \
    "Proctors can follow help requests; support staff claim, answer and resolve them — the backend refuses these actions to proctors.") \
  X(kHelpLoading, "正在加载求助…", "Loading help requests…")                                                         \
  X(kHelpNoOpen, "暂无待处理的求助", "No open help requests")                                                        \
  X(kHelpNoOpenHint, "考生点击【求助】后会立即出现在这里，按举手先后排列。",                                          \
    "A request appears here as soon as a candidate presses Help, in the order the hands went up.")                  \
  X(kHelpNoMatch, "没有符合筛选条件的求助", "No help requests match the filter")                                     \
  X(kHelpSelect, "选择一个求助查看对话和操作", "Select a request to see its conversation and actions")                \
  X(kHelpFilterAll, "全部", "All")                                                                                  \
  X(kHelpFilterMine, "我的", "Mine")                                                                                \
  X(kHelpFilterUnclaimed, "未认领", "Unclaimed")                                                                    \
  X(kHelpSummary, "待处理 %d · 未认领 %d · 未回复 %d", "%d open · %d unclaimed · %d unanswered")                     \
  X(kHelpTodayLine, "今日：求助 %d，已解决 %d，首次响应中位数 %s，P90 %s（%d 个样本）",                              \
    "Today: %d raised, %d resolved, first response median %s, p90 %s (%d answered)")                               \
  X(kHelpNoFigures, "今日：求助 %d，已解决 %d，尚无回复", "Today: %d raised, %d resolved, no replies yet")            \
  X(kHelpColOrder, "序", "#")                                                                                       \
  X(kHelpColWaiting, "等待", "Waiting")                                                                             \
  X(kHelpColHolder, "处理人", "Handled by")                                                                         \
  X(kHelpColFirstResponse, "首次响应", "First response")                                                            \
  X(kHelpColCategory, "类别", "Category")                                                                           \
  X(kHelpColResolvedAt, "解决时间", "Resolved")                                                                     \
  X(kHelpNobody, "无人认领", "nobody")                                                                              \
  X(kHelpMeSuffix, "（我）", " (me)")                                                                               \
  X(kHelpStateOpen, "待认领", "Open")                                                                               \
  X(kHelpStateClaimed, "处理中", "Claimed")                                                                         \
  X(kHelpStateResolved, "已解决", "Resolved")                                                                       \
  X(kHelpClaim, "认领 (C)", "Claim (C)")                                                                            \
  X(kHelpResolve, "解决 (K)", "Resolve (K)")                                                                        \
  X(kHelpSendReply, "发送", "Send")                                                                                 \
  X(kHelpReplyHint, "回复考生…（Enter 发送）", "Reply to the candidate… (Enter sends)")                              \
  X(kHelpQuickReplies, "快捷回复（点击填入输入框）", "Quick replies (click to fill in)")                              \
  X(kHelpCategory, "类别", "Category")                                                                              \
  X(kHelpHeldByOther, "%s 正在处理，只有处理人可以回复和解决", "%s is handling it; only they reply and resolve")     \
  X(kHelpRaisedAt, "求助于", "Raised at")                                                                           \
  X(kHelpRaisedStage, "求助时阶段", "Stage when raised")                                                           \
  X(kHelpWaitingNoReply, "已等待 %s，尚未回复", "waiting %s, no reply yet")                                          \
  X(kHelpFirstReplyAfter, "首次回复用时 %s", "first reply after %s")                                                \
  X(kHelpResolvedAs, "已解决：%s", "Resolved: %s")                                                                  \
  X(kHelpCandidate, "考生", "Candidate")                                                                            \
  X(kHelpNoMessages, "暂无消息", "No messages yet")                                                                 \
  X(kHelpResolvedToday, "今日已解决 (%d)", "Resolved today (%d)")                                                   \
  X(kHelpActions, "操作记录", "Actions")                                                                            \
  X(kHelpKeys, "↑↓ 选择  C 认领  K 解决  Enter 发送", "↑↓ select  C claim  K resolve  Enter send")                   \
  X(kHelpClaimLabel, "认领求助", "Claim help")                                                                      \
  X(kHelpReplyLabel, "回复求助", "Reply to help")                                                                   \
  X(kHelpResolveLabel, "解决求助", "Resolve help")                                                                  \
  X(kHelpCatNetwork, "网络中断", "Network loss")                                                                    \
  X(kHelpCatQuestion, "题目未加载", "Question not loaded")                                                          \
  X(kHelpCatDevice, "设备切换", "Device switch")                                                                    \
  X(kHelpCatUpload, "上传失败", "Upload failed")                                                                    \
  X(kHelpCatFace, "人脸核验", "Face check")                                                                         \
  X(kHelpCatOther, "其他", "Other")                                                                                 \
  X(kHelpQrAckLabel, "已收到", "Acknowledge")                                                                    \
  X(kHelpQrAck, "收到，技术人员正在处理，请稍候，不要退出考试页面。",                                                \
    "Got it — a technician is on it. Please wait and don't leave the exam page.")                                   \
  X(kHelpQrQuestion, "题目没有加载出来时，请点击页面左上角的【刷新】按钮重新获取题目。",                              \
    "If the question has not loaded, press the refresh button at the top left of the page to fetch it again.")     \
  X(kHelpQrNetwork, "网络中断时请继续作答，不要退出；考试结束后重新连接网络，再上传视频。",                          \
    "If the network drops, keep answering and don't leave; after the exam, reconnect and upload the video then.")  \
  X(kHelpQrDevice, "刚接入新设备时，请点击【刷新设备】按钮更新设备列表，再在摄像头或麦克风列表中选择新设备。",         \
    "After plugging in a new device, press [Refresh devices] to update the list, then pick it in the camera or microphone list.") \
  X(kHelpQrUpload, "视频上传失败时，请返回主页并重启软件，重启后停留在“我的考试”列表页面，系统会自动回收考试视频。",   \
    "If the upload failed, go back to the home page and restart the app, then stay on the \"My exams\" list: the system recovers the video automatically.") \
  X(kHelpQrFace, "人脸核验3次未通过时，请按页面提示提交人工审核；考试期间的申诉30分钟内完成审核。",                   \
    "If the face check fails three times, file a manual review as the page asks; during the exam it is decided within 30 minutes.")
