#pragma once
// Strings of the live wall workspace (监考墙): tiles, badges, focus view and actions.
// X(id, 中文, English); pulled into the one string table by ui/strings.h.
#define EXAM_UI_STRINGS_LIVE(X) \
  X(kLiveWorkspace, "监考墙", "Live wall")
