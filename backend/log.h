#pragma once
// Structured log lines (logfmt) on stderr: one line per event, machine-greppable.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <mutex>
#include <string>
#include <utility>

namespace exam::backend {

inline std::string LogQuote(const std::string& v) {
  if (v.find_first_of(" =\"") == std::string::npos && !v.empty()) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

inline void Log(const char* level, const char* msg, std::initializer_list<std::pair<const char*, std::string>> fields = {}) {
  static std::mutex mu;
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line = std::string("ts=") + ts + "." + (ms < 100 ? (ms < 10 ? "00" : "0") : "") + std::to_string(ms) +
                     "Z level=" + level + " msg=" + LogQuote(msg);
  for (const auto& [k, v] : fields) line += std::string(" ") + k + "=" + LogQuote(v);
  std::lock_guard lock(mu);
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace exam::backend
