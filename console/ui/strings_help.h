#pragma once
// Strings of the help desk workspace (求助): queue, conversation and quick replies.
// X(id, 中文, English); pulled into the one string table by ui/strings.h.
#define EXAM_UI_STRINGS_HELP(X) \
  X(kHelpDeskWorkspace, "求助台", "Help desk")
