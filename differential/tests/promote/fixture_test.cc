// fixture_test.cc: a captured fixture rebuilds a directory's bytes and its allocation.
#include "differential/promote/fixture.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "differential/runner/setup_runner.h"

namespace instar::diff {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "instar-fixture-XXXXXX").string();
    path = mkdtemp(templ.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

void put(const fs::path& file, uint64_t offset, const std::string& bytes) {
  int fd = open(file.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)), static_cast<ssize_t>(bytes.size()));
  close(fd);
}

// The data extents SEEK_DATA/SEEK_HOLE report, as [start, end) pairs.
std::vector<std::pair<off_t, off_t>> extents(const fs::path& file) {
  int fd = open(file.c_str(), O_RDONLY);
  off_t size = lseek(fd, 0, SEEK_END), pos = 0;
  std::vector<std::pair<off_t, off_t>> out;
  while (pos < size) {
    off_t data = lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;
    off_t hole = lseek(fd, data, SEEK_HOLE);
    out.emplace_back(data, hole);
    pos = hole;
  }
  close(fd);
  return out;
}

std::string contents(const fs::path& file) {
  int fd = open(file.c_str(), O_RDONLY);
  off_t size = lseek(fd, 0, SEEK_END);
  std::string out(static_cast<size_t>(size), '\0');
  EXPECT_EQ(pread(fd, out.data(), out.size(), 0), size);
  close(fd);
  return out;
}

TEST(Fixture, KeepsAllocatedZerosApartFromHoles) {
  TempDir original, rebuilt;
  fs::path file = original.path / "img";
  // 1 MiB hole, 1 MiB of written zeros, a hole, a few non-zero bytes, a hole up to 8 MiB.
  put(file, 1 << 20, std::string(1 << 20, '\0'));
  put(file, 4 << 20, "qcow2 bytes");
  ASSERT_EQ(truncate(file.c_str(), 8 << 20), 0);
  auto steps = capture_fixture(original.path);
  ASSERT_TRUE(steps.has_value());
  int allocations = 0;
  for (const SetupStep& s : *steps) allocations += std::holds_alternative<AllocateStep>(s.action);
  EXPECT_EQ(allocations, static_cast<int>(extents(file).size()));

  SetupContext context;
  context.directory = rebuilt.path;
  ASSERT_EQ(run_setup(*steps, context), "");
  EXPECT_EQ(contents(rebuilt.path / "img"), contents(file));
  EXPECT_EQ(extents(rebuilt.path / "img"), extents(file));
}

// Allocated bytes (st_blocks), which qemu's metadata-preallocation heuristic compares with the clusters.
long long blocks(const fs::path& file) {
  struct stat st;
  EXPECT_EQ(stat(file.c_str(), &st), 0);
  return static_cast<long long>(st.st_blocks);
}

TEST(Fixture, KeepsFallocatedRangesAllocatedButUnwritten) {
  TempDir original, rebuilt;
  fs::path file = original.path / "img";
  put(file, 0, std::string(4096, 'x'));
  int fd = open(file.c_str(), O_WRONLY);
  ASSERT_EQ(fallocate(fd, 0, 4096, 1 << 20), 0);
  close(fd);
  auto steps = capture_fixture(original.path);
  ASSERT_TRUE(steps.has_value());
  SetupContext context;
  context.directory = rebuilt.path;
  ASSERT_EQ(run_setup(*steps, context), "");
  EXPECT_EQ(contents(rebuilt.path / "img"), contents(file));
  EXPECT_EQ(extents(rebuilt.path / "img"), extents(file));
  EXPECT_EQ(blocks(rebuilt.path / "img"), blocks(file));
}

TEST(Fixture, RefusesMoreAllocationThanItWouldReplay) {
  TempDir original;
  fs::path file = original.path / "big";
  int fd = open(file.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  std::string zeros(1 << 20, '\0');
  for (int i = 0; i < 257; i++) ASSERT_EQ(write(fd, zeros.data(), zeros.size()), static_cast<ssize_t>(zeros.size()));
  close(fd);
  EXPECT_FALSE(capture_fixture(original.path).has_value());
}

}  // namespace
}  // namespace instar::diff
