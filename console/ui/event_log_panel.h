#pragma once
// The change feed as it arrives: the most recent events, newest at the bottom.
#include <cstdint>
#include <vector>

#include "ui/panel.h"

namespace exam::ui {

class EventLogPanel : public Panel {
 public:
  EventLogPanel() : Panel("event_log", str::kEventLog) {}

 protected:
  void DrawContent(UiContext& ctx) override;
  bool Visible(const UiContext& ctx) const override;
  void Place(const UiContext& ctx) override;
  ImGuiWindowFlags Flags() const override;

 private:
  std::vector<net::EventRecord> events_;
  int64_t events_seq_ = -1;
  bool stick_to_bottom_ = true;
};

}  // namespace exam::ui
