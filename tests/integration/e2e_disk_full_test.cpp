// Disk full on the state directory (issue "never becomes the outage"): a real, small tmpfs as the
// state directory, filled while the daemon runs. The daemon must stop acting (nothing that cannot
// be recorded is done), say why, and act again once there is room, with its state intact and
// nothing done twice. Needs root (mount); CI runs as root.
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>

#include "integration/platform_sandbox.hpp"

using namespace safetynet;
using namespace safetynet::testing;
using namespace std::chrono;

namespace {

// Writes to `path` until the file system says it is full.
void fill(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::vector<char> chunk(64 * 1024, 'x');
  while (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size() && std::fflush(f) == 0) {
  }
  std::fclose(f);
}

// Waits up to `limit` for `done`.
template <typename F>
bool waitFor(F done, seconds limit) {
  for (auto end = steady_clock::now() + limit; steady_clock::now() < end; std::this_thread::sleep_for(milliseconds(250)))
    if (done()) return true;
  return done();
}

struct TmpfsMount {
  std::filesystem::path dir;
  bool mounted = false;
  explicit TmpfsMount(std::filesystem::path d) : dir(std::move(d)) {
    std::filesystem::create_directories(dir);
    std::string out;
    const std::string mount = findProgram("mount");
    mounted = !mount.empty() && runCommand({mount, "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir.string()}, &out) == 0;
    if (!mounted) ADD_FAILURE() << "the disk-full test mounts a small tmpfs as the state directory and needs root: " << out;
  }
  ~TmpfsMount() {
    std::string out;
    if (mounted) runCommand({findProgram("umount"), "-l", dir.string()}, &out);
  }
};

}  // namespace

TEST(EndToEndDiskFull, AFullStateDirectoryStopsActingSaysWhyAndResumesWithStateIntact) {
  SandboxOptions o;
  o.seed = false;
  PlatformSandbox s(o);
  TmpfsMount state(s.dir() / "state");
  ASSERT_TRUE(state.mounted);
  s.addClose("full_a", "ops1@nullmx.test", "", Clock::now() + minutes(10), "bounce_risk");
  Process daemon({SAFETYNET_BINARY, "run", "-c", s.config()}, s.dir() / "daemon.log");
  ASSERT_TRUE(waitFor([&] { return s.close().status("full_a") == "draft"; }, seconds(30))) << readFile(s.dir() / "daemon.log");

  // The disk fills up; a new risky email arrives.
  fill(s.dir() / "state" / "filler");
  s.addClose("full_b", "ops2@nullmx.test", "", Clock::now() + minutes(12), "bounce_risk");
  ASSERT_TRUE(waitFor([&] { return readFile(s.dir() / "daemon.log").find("state directory is full") != std::string::npos; },
                      seconds(20)))
      << readFile(s.dir() / "daemon.log");
  std::this_thread::sleep_for(seconds(3));
  EXPECT_EQ(s.close().status("full_b"), "scheduled") << "acted on an email it could not record";

  // Room again: the daemon acts, once.
  std::filesystem::remove(s.dir() / "state" / "filler");
  ASSERT_TRUE(waitFor([&] { return s.close().status("full_b") == "draft"; }, seconds(30))) << readFile(s.dir() / "daemon.log");
  ASSERT_TRUE(waitFor([&] { return s.slack().messages().size() >= 2; }, seconds(20)));
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait(seconds(20)), 0);
  EXPECT_NE(readFile(s.dir() / "daemon.log").find("room again"), std::string::npos);
  if (std::getenv("SHOW_LOG")) std::cout << readFile(s.dir() / "daemon.log");

  auto decisions = s.decisions();  // fails the test on an email decided twice
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions.at("close-e2e/full_a")["state"], "reverted");
  EXPECT_EQ(decisions.at("close-e2e/full_b")["state"], "reverted");
  EXPECT_EQ(s.close().putCount("full_a"), 1);
  EXPECT_EQ(s.close().putCount("full_b"), 1);
  EXPECT_EQ(s.slack().messages().size(), 2u);  // one per held email, none twice
}
