#pragma once
// Where the console keeps its files for this user, by the XDG base directory rules.
#include <cstdlib>
#include <filesystem>
#include <optional>

namespace exam::local {

// `$variable` when it is set to an absolute path (the spec says to ignore a relative one),
// else `$HOME/home_relative`; nothing when neither is usable.
inline std::optional<std::filesystem::path> XdgBaseDir(const char* variable, const char* home_relative) {
  if (const char* xdg = std::getenv(variable); xdg != nullptr && xdg[0] == '/') return std::filesystem::path(xdg);
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0')
    return std::filesystem::path(home) / home_relative;
  return std::nullopt;
}

}  // namespace exam::local
