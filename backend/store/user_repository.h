#pragma once
// Staff users, their rooms, password hashes and tokens (staff and device tokens alike).
#include <optional>
#include <string>
#include <vector>

#include "backend/store/database.h"

namespace exam::store {

struct UserRecord {
  int64_t id = 0;
  std::string username;
  std::string display_name;
  std::vector<int> roles;  // exam.v1.Role values
  std::vector<int64_t> room_ids;
  bool HasRole(int role) const;
};

// Who a token belongs to: a staff user, or one device of a candidate's session.
struct TokenOwner {
  std::optional<UserRecord> user;
  int64_t session_id = 0;
  int device = 0;  // exam.v1.DeviceKind
  int64_t expires_at_ms = 0;
};

class UserRepository {
 public:
  explicit UserRepository(Database& db) : db_(db) {}

  int64_t Create(const std::string& username, const std::string& display_name, const std::string& password,
                 const std::vector<int>& roles, const std::vector<int64_t>& room_ids, int64_t now_ms);
  std::optional<UserRecord> FindByUsername(const std::string& username);
  std::optional<UserRecord> FindById(int64_t id);
  // What a password is checked against. Read under the store lock; the slow hash itself
  // runs in PasswordMatches without it, so a login does not stall every writer.
  struct Credentials {
    int64_t user_id = 0;  // 0: no such user
    std::string salt;
    std::string hash;
    int iterations = 0;
  };
  Credentials FindCredentials(const std::string& username);
  // Constant-time comparison of a PBKDF2-HMAC-SHA256 hash. For an unknown user it spends
  // the same time, so usernames cannot be probed by timing.
  static bool PasswordMatches(const Credentials& c, const std::string& password);
  bool Empty();

  // Tokens are random 256-bit values; only their SHA-256 is stored.
  std::string IssueStaffToken(int64_t user_id, int64_t expires_at_ms);
  std::string IssueDeviceToken(int64_t session_id, int device, int64_t expires_at_ms);
  std::optional<TokenOwner> LookupToken(const std::string& token, int64_t now_ms);
  void RevokeToken(const std::string& token);

 private:
  std::string Issue(std::optional<int64_t> user_id, int64_t session_id, int device, int64_t expires_at_ms);
  Database& db_;
};

std::string Sha256Hex(std::string_view bytes);

}  // namespace exam::store
