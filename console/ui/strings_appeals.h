#pragma once
// Strings of the appeals workspace (人工审核): queue, SLA panel and review view.
// X(id, 中文, English); pulled into the one string table by ui/strings.h.
// The reason templates (kApTpl*) are also what the candidate is told, sent as "中文 / English".
#define EXAM_UI_STRINGS_APPEALS(X)                                                                          \
  X(kAppealsWorkspace, "人工审核", "Appeals")                                                              \
  X(kApForSupport, "人工审核仅对技术支持和管理员开放", "Appeals are for support staff and administrators") \
  X(kApLoading, "正在加载申诉…", "Loading appeals…")                                                      \
  X(kApNoAppeals, "暂无待审核的申诉", "No appeals waiting")                                                \
  X(kApNoAppealsHint, "考生人脸核验连续三次失败后提交的人工审核申诉会出现在这里。",                        \
    "Appeals filed after three failed face checks appear here.")                                          \
  X(kApNoMatch, "没有符合筛选条件的申诉", "No appeals match the filters")                                  \
  X(kApPhaseAll, "考前和考中", "Pre-exam and in-exam")                                                     \
  X(kApPreExam, "考前", "Pre-exam")                                                                        \
  X(kApInExam, "考中", "In exam")                                                                          \
  X(kApMine, "只看我的", "Mine only")                                                                      \
  X(kApCounts, "待审核 %d · 已超时 %d · 我在审核 %d", "%d open · %d breached · %d mine")                   \
  X(kApSlaTitle, "今日 SLA", "SLA today")                                                                  \
  X(kApSlaWithin, "按时处理", "Decided in time")                                                          \
  X(kApSlaMedian, "用时中位数", "Median time")                                                             \
  X(kApSlaP90, "用时 P90", "P90 time")                                                                     \
  X(kApSlaDecided, "今日已处理 %d，按时 %d", "%d decided today, %d in time")                               \
  X(kApSlaNone, "今日尚无已处理的申诉", "Nothing decided today yet")                                       \
  X(kApTimeLeft, "剩余", "Left")                                                                           \
  X(kApHolder, "审核人", "Reviewer")                                                                       \
  X(kApMe, "我", "me")                                                                                     \
  X(kApUrgComfortable, "时间充裕", "On track")                                                             \
  X(kApUrgHalf, "已过半", "Over half gone")                                                                \
  X(kApUrgCritical, "即将超时", "Almost due")                                                              \
  X(kApUrgBreached, "已超时", "Breached")                                                                  \
  X(kApSelect, "从左侧队列选择一个申诉开始审核", "Select an appeal in the queue to review it")             \
  X(kApLoadingDetail, "正在加载照片…", "Loading photos…")                                                 \
  X(kApRegPhoto, "报名照片", "Registration photo")                                                         \
  X(kApIdFront, "身份证人像面", "ID card, front")                                                          \
  X(kApIdBack, "身份证国徽面", "ID card, back")                                                            \
  X(kApHandheld, "手持身份证照", "Handheld ID")                                                            \
  X(kApNoPhoto, "未提供", "Not provided")                                                                  \
  X(kApBadPhoto, "无法显示", "Cannot display")                                                             \
  X(kApCaptures, "未通过的人脸核验抓拍", "Failed live captures")                                           \
  X(kApCaptureHint, "点击放大", "click to enlarge")                                                      \
  X(kApSimilarity, "相似度", "Similarity")                                                                 \
  X(kApNoCaptures, "没有抓拍", "No captures")                                                              \
  X(kApNoDraw, "未抽签", "not drawn")                                                                 \
  X(kApFiled, "提交于", "Filed")                                                                           \
  X(kApExamStart, "开考", "Exam start")                                                                    \
  X(kApStageWhenFiled, "提交时", "When filed")                                                             \
  X(kApStageNow, "当前", "Now")                                                                            \
  X(kApDueIn, "距截止", "Due in")                                                                          \
  X(kApOverdueBy, "已超时", "Overdue by")                                                                  \
  X(kApLeaseHeld, "你正在审核（租约至 %s，自动续期）", "You are reviewing it (lease until %s, renewed)")   \
  X(kApLeaseClaiming, "正在认领…", "Claiming…")                                                           \
  X(kApLeaseOther, "%s 正在审核，你暂时不能处理", "%s is reviewing it; you cannot decide it now")          \
  X(kApLeaseHanded, "决定已提交，租约交给该决定", "Decision sent; the lease goes with it")                 \
  X(kApLeasePaused, "离开期间已释放，回来后重新认领", "Released while away; claimed again on return")      \
  X(kApLeaseClosed, "已处理，无需认领", "Decided; nothing to claim")                                       \
  X(kApLeaseError, "认领失败", "Could not claim it")                                                      \
  X(kApApproved, "已批准", "Approved")                                                                     \
  X(kApRejected, "已驳回", "Rejected")                                                                     \
  X(kApDecidedBy, "处理人", "Decided by")                                                                  \
  X(kApApprove, "批准 (A)", "Approve (A)")                                                                 \
  X(kApReject, "驳回 (R)", "Reject (R)")                                                                   \
  X(kApApproveAction, "批准申诉", "Approve appeal")                                                        \
  X(kApRejectAction, "驳回申诉", "Reject appeal")                                                          \
  X(kApReasonHint, "原因（驳回时必填）", "Reason (required to reject)")                                    \
  X(kApTemplates, "常用理由", "Reasons")                                                                   \
  X(kApTplMatch, "证件照与本人一致", "ID matches")                                                         \
  X(kApTplLighting, "光线原因核验失败，人工比对一致", "Failed on lighting; matches on review")             \
  X(kApTplMismatch, "人证不符", "ID does not match")                                                       \
  X(kApTplBlurry, "照片模糊无法辨认", "Photo unreadable")                                                  \
  X(kApTplIncomplete, "证件不完整或被遮挡", "ID card incomplete or covered")                               \
  X(kApTplHandheld, "手持证件照不符合要求", "Handheld-ID photo unusable")                                  \
  X(kApRejectNeedsReason, "驳回需要填写原因：选择常用理由或自行填写", "A rejection needs a reason: pick one or write it") \
  X(kApNotHeld, "你没有持有该申诉的租约，不能做决定", "You do not hold this appeal's lease; you cannot decide it") \
  X(kApLeaseBusy, "正在续租，决定未发送，请稍后再试", "Renewing the lease; nothing was sent, try again")   \
  X(kApNoOutbox, "本地操作队列不可用，决定未发送", "The local action queue is unavailable; nothing was sent") \
  X(kApDecisionQueued, "决定待发送", "Decision queued")                                                    \
  X(kApDecisionSending, "决定发送中", "Sending decision")                                                  \
  X(kApDecisionConfirmed, "决定已生效", "Decision applied")                                                \
  X(kApDecisionFailed, "决定未生效", "Decision refused")                                                   \
  X(kApReload, "重新加载", "Reload")                                                                       \
  X(kApNext, "下一个 (N)", "Next (N)")                                                                     \
  X(kApClose, "关闭 (Esc)", "Close (Esc)")                                                                 \
  X(kApKeys, "A 批准  R 驳回  N 下一个  Esc 关闭 · 照片：滚轮缩放，拖动平移，双击复位",                    \
    "A approve  R reject  N next  Esc close · photos: wheel zoom, drag pan, double-click reset")
