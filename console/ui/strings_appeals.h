#pragma once
// Strings of the appeals workspace (人工审核): queue, SLA panel and review view.
// X(id, 中文, English); pulled into the one string table by ui/strings.h.
#define EXAM_UI_STRINGS_APPEALS(X) \
  X(kAppealsWorkspace, "人工审核", "Appeals")
