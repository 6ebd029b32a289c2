#pragma once
// Reading a backend's SQLite file from a test, as someone with access to the file would: to
// check what was stored (rows written, a snapshot byte for byte, an integrity check).
#include <string>
#include <vector>

namespace exam::testing {

// The rows `sql` returns, each value as its bytes: text and numbers as text, blobs whole,
// NULL as "". Read on a connection of its own (WAL lets a reader in while the backend
// writes). A file or statement that fails is a test failure, with what was read returned.
std::vector<std::vector<std::string>> QueryDb(const std::string& db, const std::string& sql);

}  // namespace exam::testing
