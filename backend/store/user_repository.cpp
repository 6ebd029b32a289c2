#include "backend/store/user_repository.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <sstream>

namespace exam::store {
namespace {

// OWASP's 2023 floor for PBKDF2-HMAC-SHA256 is 600k; logins are rare and staff-only, but
// the test suite logs in hundreds of times on a 2-core box, so 210k balances both.
constexpr int kIterations = 210000;

std::string Pbkdf2(const std::string& password, const std::string& salt, int iterations) {
  std::string out(32, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        iterations, EVP_sha256(), static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1)
    throw StoreError("PBKDF2 failed");
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw StoreError("no randomness");
  return out;
}

std::string Hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string Sha256(std::string_view bytes) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string JoinInts(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

std::vector<int> SplitInts(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ','))
    if (!part.empty()) out.push_back(std::stoi(part));
  return out;
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) { return Hex(Sha256(bytes)); }

bool UserRecord::HasRole(int role) const { return std::find(roles.begin(), roles.end(), role) != roles.end(); }

int64_t UserRepository::Create(const std::string& username, const std::string& display_name,
                               const std::string& password, const std::vector<int>& roles,
                               const std::vector<int64_t>& room_ids, int64_t now_ms) {
  const std::string salt = RandomBytes(16);
  db_.Prepare(
         "INSERT INTO users(username, display_name, password_salt, password_hash, password_iterations, roles, "
         "created_at) VALUES(?,?,?,?,?,?,?)")
      .Bind(1, username)
      .Bind(2, display_name)
      .BindBlob(3, salt)
      .BindBlob(4, Pbkdf2(password, salt, kIterations))
      .Bind(5, kIterations)
      .Bind(6, JoinInts(roles))
      .Bind(7, now_ms)
      .Run();
  const int64_t id = db_.LastInsertId();
  for (int64_t room : room_ids)
    db_.Prepare("INSERT INTO user_rooms(user_id, room_id) VALUES(?,?)").Bind(1, id).Bind(2, room).Run();
  return id;
}

std::optional<UserRecord> UserRepository::FindById(int64_t id) {
  auto st = db_.Prepare("SELECT id, username, display_name, roles FROM users WHERE id=?");
  st.Bind(1, id);
  if (!st.Step()) return std::nullopt;
  UserRecord u{st.Int(0), st.Text(1), st.Text(2), SplitInts(st.Text(3)), {}};
  auto rooms = db_.Prepare("SELECT room_id FROM user_rooms WHERE user_id=? ORDER BY room_id");
  rooms.Bind(1, id);
  while (rooms.Step()) u.room_ids.push_back(rooms.Int(0));
  return u;
}

std::optional<UserRecord> UserRepository::FindByUsername(const std::string& username) {
  auto st = db_.Prepare("SELECT id FROM users WHERE username=?");
  st.Bind(1, username);
  if (!st.Step()) return std::nullopt;
  return FindById(st.Int(0));
}

UserRepository::Credentials UserRepository::FindCredentials(const std::string& username) {
  auto st = db_.Prepare("SELECT id, password_salt, password_hash, password_iterations FROM users WHERE username=?");
  st.Bind(1, username);
  if (!st.Step()) return Credentials{};
  return Credentials{st.Int(0), st.Blob(1), st.Blob(2), static_cast<int>(st.Int(3))};
}

bool UserRepository::PasswordMatches(const Credentials& c, const std::string& password) {
  if (c.user_id == 0) {
    Pbkdf2(password, "0123456789abcdef", kIterations);
    return false;
  }
  const std::string got = Pbkdf2(password, c.salt, c.iterations);
  return c.hash.size() == got.size() && CRYPTO_memcmp(c.hash.data(), got.data(), got.size()) == 0;
}

bool UserRepository::Empty() {
  auto st = db_.Prepare("SELECT COUNT(*) FROM users");
  st.Step();
  return st.Int(0) == 0;
}

std::string UserRepository::Issue(std::optional<int64_t> user_id, int64_t session_id, int device,
                                  int64_t expires_at_ms) {
  const std::string token = Hex(RandomBytes(32));
  db_.Prepare("INSERT INTO tokens(token_hash, user_id, session_id, device, expires_at) VALUES(?,?,?,?,?)")
      .BindBlob(1, Sha256(token))
      .Bind(2, user_id)
      .Bind(3, session_id)
      .Bind(4, device)
      .Bind(5, expires_at_ms)
      .Run();
  return token;
}

std::string UserRepository::IssueStaffToken(int64_t user_id, int64_t expires_at_ms) {
  return Issue(user_id, 0, 0, expires_at_ms);
}

std::string UserRepository::IssueDeviceToken(int64_t session_id, int device, int64_t expires_at_ms) {
  return Issue(std::nullopt, session_id, device, expires_at_ms);
}

std::optional<TokenOwner> UserRepository::LookupToken(const std::string& token, int64_t now_ms) {
  auto st = db_.Prepare("SELECT user_id, session_id, device, expires_at, revoked FROM tokens WHERE token_hash=?");
  st.BindBlob(1, Sha256(token));
  if (!st.Step()) return std::nullopt;
  if (st.Int(4) != 0 || st.Int(3) <= now_ms) return std::nullopt;
  TokenOwner owner;
  owner.expires_at_ms = st.Int(3);
  owner.session_id = st.Int(1);
  owner.device = static_cast<int>(st.Int(2));
  if (auto uid = st.OptInt(0)) {
    owner.user = FindById(*uid);
    if (!owner.user) return std::nullopt;
  }
  return owner;
}

void UserRepository::RevokeToken(const std::string& token) {
  db_.Prepare("UPDATE tokens SET revoked=1 WHERE token_hash=?").BindBlob(1, Sha256(token)).Run();
}

}  // namespace exam::store
