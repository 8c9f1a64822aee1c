// The Beast client against real peers: openssl s_server for TLS verification, and a local Beast
// server for retries, Retry-After and keep-alive.
#include <gtest/gtest.h>

#include "integration/peers.hpp"
#include "safetynet/net/http_client.hpp"
#include "safetynet/net/http_server.hpp"
#include "support/run_task.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

HttpClientOptions fast(std::string ca = "") {
  HttpClientOptions o;
  o.ca_file = std::move(ca);
  o.timeout = seconds(5);
  o.retry.max_attempts = 4;
  o.retry.base_delay = milliseconds(10);
  o.retry.max_delay = milliseconds(50);
  return o;
}

HttpRequest get(const std::string& url) {
  HttpRequest r;
  r.url = url;
  return r;
}

std::string errorOf(asio::io_context& io, HttpClient& c, HttpRequest r) {
  try {
    runTask(io, c.send(std::move(r)));
  } catch (const HttpError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(HttpsClient, VerifiesTheServerWithTheGivenCa) {
  TlsServer tls;
  asio::io_context io;
  auto client = makeHttpClient(io.get_executor(), fast(tls.caFile()));
  auto r = runTask(io, client->send(get("https://localhost:" + std::to_string(tls.port()) + "/")));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("s_server"), std::string::npos);
}

TEST(HttpsClient, RefusesAnUntrustedCertificate) {
  TlsServer tls;
  asio::io_context io;
  auto client = makeHttpClient(io.get_executor(), fast());  // system CAs: the self-signed cert is unknown
  auto e = errorOf(io, *client, get("https://localhost:" + std::to_string(tls.port()) + "/"));
  EXPECT_NE(e.find("certificate verify failed"), std::string::npos) << e;
}

TEST(HttpsClient, RefusesACertificateForAnotherName) {
  TlsServer tls;  // the certificate names "localhost" only
  asio::io_context io;
  auto client = makeHttpClient(io.get_executor(), fast(tls.caFile()));
  auto e = errorOf(io, *client, get("https://127.0.0.1:" + std::to_string(tls.port()) + "/"));
  EXPECT_NE(e.find("certificate verify failed"), std::string::npos) << e;
}

TEST(HttpClient, RetriesServerErrorsThenSucceeds) {
  asio::io_context io;
  int calls = 0;
  HttpServer server(io.get_executor(), [&](const ServerRequest&) {
    return ++calls < 3 ? ServerResponse{503, "text/plain", {}, "busy"} : ServerResponse{200, "text/plain", {}, "ok"};
  });
  auto client = makeHttpClient(io.get_executor(), fast());
  auto r = runTask(io, client->send(get(server.baseUrl() + "/x")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(calls, 3);
}

TEST(HttpClient, HonoursRetryAfterOn429) {
  asio::io_context io;
  int calls = 0;
  HttpServer server(io.get_executor(), [&](const ServerRequest&) {
    return ++calls == 1 ? ServerResponse{429, "application/json", {{"Retry-After", "1"}}, "{}"}
                        : ServerResponse{200, "application/json", {}, "{}"};
  });
  auto client = makeHttpClient(io.get_executor(), fast());
  auto start = steady_clock::now();
  auto r = runTask(io, client->send(get(server.baseUrl() + "/x")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_GE(steady_clock::now() - start, milliseconds(900));  // the server's wait, not our 10 ms backoff
}

// Slack limits each Web API method on its own, Close each endpoint group: a 429 on one holds that
// group only. Posting was limited for 5 s; reading history was not, and must not wait for it.
TEST(HttpClient, A429HoldsItsRateGroupNotTheWholeHost) {
  asio::io_context io;
  int posts = 0;
  HttpServer server(io.get_executor(), [&](const ServerRequest& r) {
    if (r.target.find("chat.postMessage") != std::string::npos && ++posts == 1)
      return ServerResponse{429, "application/json", {{"Retry-After", "5"}}, "{}"};
    return ServerResponse{200, "application/json", {}, "{\"ok\":true}"};
  });
  HttpClientOptions o = fast();
  o.retry.max_server_delay = seconds(10);
  auto client = makeHttpClient(io.get_executor(), o);
  HttpRequest post = get(server.baseUrl() + "/api/chat.postMessage");
  post.rate_group = "chat.postMessage";
  auto posted = asio::co_spawn(io, client->send(post), asio::use_future);
  while (posts == 0) io.run_one();
  // The 429 is read after this: its Retry-After (5 s) runs from a later moment.
  const auto answered = steady_clock::now();
  io.run_for(milliseconds(300));  // the client reads the 429 and waits
  HttpRequest history = get(server.baseUrl() + "/api/conversations.history");
  history.rate_group = "conversations.history";
  const auto start = steady_clock::now();
  EXPECT_EQ(runTask(io, client->send(history)).status, 200);
  EXPECT_LT(steady_clock::now() - start, milliseconds(2500)) << "another method waited for chat.postMessage's limit";
  // The same group still waits: a second post is held until the first one's Retry-After.
  HttpRequest again = post;
  EXPECT_EQ(runTask(io, client->send(again)).status, 200);
  EXPECT_GE(steady_clock::now() - answered, milliseconds(4500));
  while (posted.wait_for(seconds(0)) != std::future_status::ready) io.run_one();
  EXPECT_EQ(posted.get().status, 200);
}

TEST(HttpClient, GivesUpAfterMaxAttemptsWithTheLastAnswer) {
  asio::io_context io;
  int calls = 0;
  HttpServer server(io.get_executor(), [&](const ServerRequest&) {
    ++calls;
    return ServerResponse{500, "text/plain", {}, "down"};
  });
  auto client = makeHttpClient(io.get_executor(), fast());
  auto r = runTask(io, client->send(get(server.baseUrl() + "/x")));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(calls, 4);
}

TEST(HttpClient, DoesNotResendAPostAfterA5xx) {
  asio::io_context io;
  int calls = 0;
  HttpServer server(io.get_executor(), [&](const ServerRequest&) {
    ++calls;
    return ServerResponse{502, "text/plain", {}, "bad gateway"};
  });
  auto client = makeHttpClient(io.get_executor(), fast());
  HttpRequest post = get(server.baseUrl() + "/chat.postMessage");
  post.method = "POST";
  post.body = "{}";
  EXPECT_EQ(runTask(io, client->send(post)).status, 502);
  EXPECT_EQ(calls, 1);  // it may have been processed: the caller decides
}

TEST(HttpClient, ConnectionRefusedIsAnErrorAfterRetries) {
  asio::io_context io;
  auto client = makeHttpClient(io.get_executor(), fast());
  auto e = errorOf(io, *client, get("http://127.0.0.1:" + std::to_string(freePort()) + "/x"));
  EXPECT_NE(e.find("connect"), std::string::npos) << e;
  EXPECT_EQ(e.find("Authorization"), std::string::npos);
}

TEST(HttpClient, SendsHeadersAndBodyAndReusesTheConnection) {
  asio::io_context io;
  std::vector<ServerRequest> seen;
  HttpServer server(io.get_executor(), [&](const ServerRequest& r) {
    seen.push_back(r);
    return ServerResponse{200, "application/json", {{"X-Thing", "1"}}, "{\"ok\":true}"};
  });
  auto client = makeHttpClient(io.get_executor(), fast());
  HttpRequest put = get(server.baseUrl() + "/a?b=c");
  put.method = "PUT";
  put.headers = {{"Authorization", "Basic abc"}, {"Content-Type", "application/json"}};
  put.body = "{\"status\":\"draft\"}";
  auto r = runTask(io, client->send(put));
  EXPECT_EQ(r.header("x-thing"), "1");
  runTask(io, client->send(get(server.baseUrl() + "/again")));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[0].path, "/a");
  EXPECT_EQ(seen[0].query.at("b"), "c");
  EXPECT_EQ(seen[0].header("authorization"), "Basic abc");
  EXPECT_EQ(seen[0].body, "{\"status\":\"draft\"}");
  EXPECT_EQ(server.connectionsAccepted(), 1);  // keep-alive: both requests on one connection
}

TEST(HttpClient, ReconnectsWhenTheServerClosedAnIdleConnection) {
  asio::io_context io;
  HttpServer server(io.get_executor(), [&](const ServerRequest&) {
    ServerResponse r{200, "text/plain", {{"Connection", "close"}}, "bye"};
    return r;
  });
  auto client = makeHttpClient(io.get_executor(), fast());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(runTask(io, client->send(get(server.baseUrl() + "/x"))).status, 200);
  EXPECT_EQ(server.connectionsAccepted(), 3);
}

namespace {
HttpRequest post(const std::string& url) {
  HttpRequest r = get(url);
  r.method = "POST";
  r.body = "{}";
  return r;
}
// Runs the fake servers' pending work (a close after an answer) before the next request.
void settle(asio::io_context& io) {
  io.restart();
  io.run_for(milliseconds(50));
}
}  // namespace

TEST(HttpClient, DoesNotResendAPostWhoseAnswerWasLostOnAReusedConnection) {
  // The server applies the POST, then the connection drops before the answer: it may have been
  // processed, so only the caller can tell (Slack: by the message's metadata).
  asio::io_context io;
  int posts = 0;
  HttpServer server(io.get_executor(), [&](const ServerRequest& r) {
    if (r.method != "POST") return ServerResponse{200, "text/plain", {}, "ok"};
    ++posts;
    ServerResponse lost{200, "application/json", {}, "{\"ok\":true}"};
    lost.fault = ConnectionFault::DropBeforeAnswer;
    return lost;
  });
  auto client = makeHttpClient(io.get_executor(), fast());
  ASSERT_EQ(runTask(io, client->send(get(server.baseUrl() + "/warm"))).status, 200);  // a kept-alive connection
  auto e = errorOf(io, *client, post(server.baseUrl() + "/chat.postMessage"));
  EXPECT_NE(e.find("read"), std::string::npos) << e;
  EXPECT_EQ(posts, 1);
  EXPECT_EQ(server.connectionsAccepted(), 1);
}

TEST(HttpClient, ResendsAGetWhoseAnswerWasLostOnAReusedConnection) {
  asio::io_context io;
  int calls = 0;
  HttpServer server(io.get_executor(), [&](const ServerRequest&) {
    ServerResponse r{200, "text/plain", {}, "ok"};
    if (++calls == 2) r.fault = ConnectionFault::DropBeforeAnswer;
    return r;
  });
  auto client = makeHttpClient(io.get_executor(), fast());
  ASSERT_EQ(runTask(io, client->send(get(server.baseUrl() + "/a"))).status, 200);
  EXPECT_EQ(runTask(io, client->send(get(server.baseUrl() + "/b"))).status, 200);  // idempotent: sent again
  EXPECT_EQ(calls, 3);
}

TEST(HttpClient, APostDoesNotGoOutOnAConnectionTheServerClosedWhileIdle) {
  // The server ended the kept-alive connection after its answer: the client sees that before
  // writing and connects afresh, so the POST is sent once and answered.
  asio::io_context io;
  int posts = 0;
  HttpServer server(io.get_executor(), [&](const ServerRequest& r) {
    ServerResponse out{200, "text/plain", {}, "ok"};
    if (r.method == "POST") ++posts;
    else out.fault = ConnectionFault::CloseAfterAnswer;
    return out;
  });
  auto client = makeHttpClient(io.get_executor(), fast());
  ASSERT_EQ(runTask(io, client->send(get(server.baseUrl() + "/warm"))).status, 200);
  settle(io);
  EXPECT_EQ(runTask(io, client->send(post(server.baseUrl() + "/p"))).status, 200);
  EXPECT_EQ(posts, 1);
  EXPECT_EQ(server.connectionsAccepted(), 2);
}
