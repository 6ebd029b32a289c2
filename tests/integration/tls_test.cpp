// TLS on the channel: a CA and a server certificate for 127.0.0.1/localhost are made when the
// test runs (nothing secret is committed), the backend serves TLS only, and clients with the
// right CA, without TLS, or trusting another CA get what they should.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>

#include "backend_fixture.h"
#include "net/backend_client.h"

namespace exam::testing {
namespace {

namespace v1 = exam::v1;
using grpc::StatusCode;

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

KeyPtr NewKey() { return KeyPtr(EVP_EC_gen("P-256"), &EVP_PKEY_free); }

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << "extension " << OBJ_nid2sn(nid) << "=" << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `common_name`, signed by `issuer_key` (self-signed when
// `issuer` is null).
CertPtr MakeCert(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key, bool ca, long serial) {
  CertPtr cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  // A little in the past: the clocks of a test machine and its container may differ.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Exam Console test"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : cert.get();
  if (ca) {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    AddExtension(cert.get(), signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    AddExtension(cert.get(), signer, NID_authority_key_identifier, "keyid");
  }
  EXPECT_GT(X509_sign(cert.get(), issuer_key, EVP_sha256()), 0);
  return cert;
}

std::string CertPem(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string KeyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

class TlsTest : public BackendFixture {
 protected:
  void Configure(backend::ServerOptions& o) override {
    auto ca_key = NewKey();
    auto ca = MakeCert(ca_key.get(), "Exam Console test CA", nullptr, ca_key.get(), true, 1);
    auto server_key = NewKey();
    auto server_cert = MakeCert(server_key.get(), "localhost", ca.get(), ca_key.get(), false, 2);
    ca_pem_ = CertPem(ca.get());

    // Another CA that never signed anything the server presents.
    auto other_key = NewKey();
    auto other = MakeCert(other_key.get(), "Exam Console test CA", nullptr, other_key.get(), true, 1);
    other_ca_pem_ = CertPem(other.get());

    o.tls_cert_file = (dir_.path() / "server.crt").string();
    o.tls_key_file = (dir_.path() / "server.key").string();
    WriteFile(o.tls_cert_file, CertPem(server_cert.get()));
    WriteFile(o.tls_key_file, KeyPem(server_key.get()));
  }

  std::shared_ptr<grpc::Channel> TlsChannel(const std::string& roots) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = roots;
    return grpc::CreateChannel(server_->address(), grpc::SslCredentials(ssl));
  }

  static grpc::Status SignIn(const std::shared_ptr<grpc::Channel>& channel, v1::LoginResponse* resp) {
    auto stub = v1::AuthService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::LoginRequest req;
    req.set_username("proctor1");
    req.set_password("demo");
    return stub->Login(&ctx, req, resp);
  }

  std::string ca_pem_, other_ca_pem_;
};

TEST_F(TlsTest, ClientTrustingTheCaSignsInAndCalls) {
  auto channel = TlsChannel(ca_pem_);
  v1::LoginResponse login;
  const auto status = SignIn(channel, &login);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  ASSERT_FALSE(login.token().empty());

  auto exams = v1::ExamService::NewStub(channel);
  v1::ListExamsResponse list;
  auto ctx = Ctx(login.token());
  const auto listed = exams->ListExams(ctx.get(), v1::ListExamsRequest(), &list);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  EXPECT_GT(list.exams_size(), 0);
}

TEST_F(TlsTest, PlainTextClientIsRefused) {
  v1::LoginResponse login;
  const auto status = SignIn(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()), &login);
  EXPECT_EQ(status.error_code(), StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_TRUE(login.token().empty());
}

TEST_F(TlsTest, ClientTrustingAnotherCaIsRefused) {
  v1::LoginResponse login;
  const auto status = SignIn(TlsChannel(other_ca_pem_), &login);
  EXPECT_EQ(status.error_code(), StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_TRUE(login.token().empty());
}

// The console's client: online with the CA; without it, a status that says what to do.
TEST_F(TlsTest, ConsoleClientWithCaGoesOnlineAndWithoutItSaysWhy) {
  net::ClientOptions with_ca;
  with_ca.address = server_->address();
  with_ca.username = "support1";
  with_ca.password = "demo";
  with_ca.ca_pem = ca_pem_;
  with_ca.call_timeout = std::chrono::seconds(2);
  net::BackendClient good(with_ca);
  good.Start();
  EXPECT_TRUE(WaitFor([&] { return good.Status().state == net::ConnectionState::kOnline; },
                      std::chrono::seconds(15)))
      << good.Status().message;
  good.Stop();

  auto plain = with_ca;
  plain.ca_pem.clear();
  plain.call_timeout = std::chrono::milliseconds(500);
  net::BackendClient bad(plain);
  bad.Start();
  EXPECT_TRUE(WaitFor([&] { return bad.Status().message.find("speaks TLS: start the console with --ca") !=
                                   std::string::npos; },
                      std::chrono::seconds(15)))
      << "state " << net::ConnectionStateName(bad.Status().state) << ": " << bad.Status().message;
  EXPECT_NE(bad.Status().state, net::ConnectionState::kOnline);
  bad.Stop();

  auto other = with_ca;
  other.ca_pem = other_ca_pem_;
  other.call_timeout = std::chrono::milliseconds(500);
  net::BackendClient untrusted(other);
  untrusted.Start();
  EXPECT_TRUE(WaitFor([&] { return untrusted.Status().message.find("TLS handshake with") != std::string::npos; },
                      std::chrono::seconds(15)))
      << "state " << net::ConnectionStateName(untrusted.Status().state) << ": " << untrusted.Status().message;
  EXPECT_NE(untrusted.Status().state, net::ConnectionState::kOnline);
  untrusted.Stop();
}

// A plain-text backend is not taken for a TLS one: a TLS client that cannot reach it is told
// "unreachable", not to check its CA.
TEST(TlsProbeTest, PlainTextBackendIsNotTakenForTls) {
  TempDir dir;
  backend::ServerOptions o;
  o.db_path = (dir.path() / "plain.db").string();
  o.demo_candidates = 2;
  o.demo_review_sessions = 0;
  std::string error;
  auto server = backend::ExamServer::Start(o, &error);
  ASSERT_TRUE(server) << error;
  net::ClientOptions c;
  c.address = server->address();
  c.username = "support1";
  c.password = "demo";
  c.ca_pem = "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n";
  c.call_timeout = std::chrono::milliseconds(500);
  net::BackendClient client(c);
  client.Start();
  // A TLS client cannot reach a plain backend; the message must not blame the CA.
  EXPECT_TRUE(WaitFor([&] { return client.Status().message.find("unreachable") != std::string::npos; },
                      std::chrono::seconds(15)))
      << client.Status().message;
  EXPECT_EQ(client.Status().message.find("TLS"), std::string::npos) << client.Status().message;
  client.Stop();
  server->Shutdown();
}

}  // namespace
}  // namespace exam::testing
