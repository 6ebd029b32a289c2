#pragma once
// Reads the current GL framebuffer back and writes it as a PNG (for --screenshot and the
// GUI tests). Main thread, with the context current.
#include <string>

namespace exam::render {

// Reads `width` x `height` pixels of the bound read framebuffer (the back buffer before the
// swap), flips them upright and writes an RGB PNG. Returns false and fills *error on failure.
bool WriteFramebufferPng(const std::string& path, int width, int height, std::string* error);

}  // namespace exam::render
