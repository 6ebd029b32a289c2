#pragma once
// A window of the console. The base owns Begin()/End() and the open state; a panel
// implements DrawContent() and, when it has a fixed place in the layout, Place().
#include <imgui.h>

#include <string>

#include "ui/strings.h"
#include "ui/ui_context.h"

namespace exam::ui {

class Panel {
 public:
  Panel(std::string id, Text title) : id_(std::move(id)), title_(title) {}
  virtual ~Panel() = default;
  Panel(const Panel&) = delete;
  Panel& operator=(const Panel&) = delete;

  // Draws the window when it should be shown this frame.
  void Draw(UiContext& ctx);

  const std::string& id() const { return id_; }
  const Text& title() const { return title_; }
  bool open() const { return open_; }
  void set_open(bool open) { open_ = open; }
  bool* open_ptr() { return &open_; }
  // Stops what the panel runs on other threads (feeds). Called before the window and GL go
  // away, so nothing it owns posts to GLFW afterwards.
  virtual void Stop() {}
  // Whether the View menu offers to show and hide it.
  virtual bool InViewMenu() const { return true; }

 protected:
  virtual void DrawContent(UiContext& ctx) = 0;
  // Called on frames the panel is not shown: a workspace in the background stops polling.
  virtual void Hidden(UiContext& ctx) {}
  // Shown this frame? Default: while open.
  virtual bool Visible(const UiContext& ctx) const { return open_; }
  // Before Begin(): position and size (SetNextWindow*).
  virtual void Place(const UiContext& ctx) {}
  virtual ImGuiWindowFlags Flags() const { return ImGuiWindowFlags_None; }
  virtual bool Closable() const { return true; }
  // Style pushed around Begin()/End(); PopStyle() must undo exactly what PushStyle() did.
  virtual void PushStyle() {}
  virtual void PopStyle() {}

 private:
  std::string id_;
  Text title_;
  bool open_ = true;
};

}  // namespace exam::ui
