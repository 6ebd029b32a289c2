#pragma once
// The console's window and frame loop.
#include "app/options.h"

namespace exam::app {

// Runs until the window closes (or the screenshot is written); returns the exit code.
int RunConsole(const Options& options);

}  // namespace exam::app
