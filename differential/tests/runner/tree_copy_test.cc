// tree_copy_test.cc: copies keep content, holes and preallocated extents.
#include "differential/runner/tree_copy.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "differential/runner/scratch_directory.h"
#include "differential/runner/tree_digest.h"
#include "differential/tests/runner/test_files.h"

namespace instar::diff {
namespace {

using testing::allocated_bytes;
using testing::read_file;
using testing::write_file;

class TreeCopyTest : public ::testing::Test {
 protected:
  ScratchDirectory dir_{default_temp_root(), "tree-copy-test-"};
  std::filesystem::path from_ = dir_.path() / "from";
  std::filesystem::path to_ = dir_.path() / "to";
  void SetUp() override { std::filesystem::create_directory(from_); }
};

TEST_F(TreeCopyTest, CopiesEveryEntryWithItsContent) {
  write_file(from_ / "a", "alpha");
  std::filesystem::create_directory(from_ / "sub");
  write_file(from_ / "sub" / "b", std::string(3 << 20, 'b'));
  std::filesystem::create_symlink("../a", from_ / "sub" / "link");
  copy_tree(from_, to_);
  EXPECT_TRUE(diff_trees(digest_tree(from_), digest_tree(to_), TreeDiffScope::content).empty());
  EXPECT_EQ(std::filesystem::read_symlink(to_ / "sub" / "link"), "../a");
}

TEST_F(TreeCopyTest, HolesStayHoles) {
  {
    int fd = open((from_ / "sparse").c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, "x", 1, 32 << 20), 1);
    close(fd);
  }
  copy_tree(from_, to_);
  EXPECT_EQ(std::filesystem::file_size(to_ / "sparse"), (32u << 20) + 1);
  EXPECT_LE(allocated_bytes(to_ / "sparse"), 64u * 1024);
  EXPECT_EQ(read_file(to_ / "sparse").back(), 'x');
}

TEST_F(TreeCopyTest, PreallocatedExtentsStayAllocated) {
  int fd = open((from_ / "falloc").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  if (fallocate(fd, 0, 0, 8 << 20) != 0) {
    close(fd);
    GTEST_SKIP() << "the filesystem under " << dir_.path() << " cannot fallocate";
  }
  close(fd);
  copy_tree(from_, to_);
  EXPECT_EQ(allocated_bytes(to_ / "falloc"), allocated_bytes(from_ / "falloc"));
  EXPECT_EQ(read_file(to_ / "falloc"), std::string(8 << 20, '\0'));
}

TEST_F(TreeCopyTest, WrittenZerosStayAllocated) {
  write_file(from_ / "zeros", std::string(1 << 20, '\0'));
  copy_tree(from_, to_);
  EXPECT_EQ(allocated_bytes(to_ / "zeros"), allocated_bytes(from_ / "zeros"));
}

TEST_F(TreeCopyTest, RefusesAnExistingDestination) {
  std::filesystem::create_directory(to_);
  EXPECT_THROW(copy_tree(from_, to_), std::system_error);
}

TEST_F(TreeCopyTest, SingleFileCopyReplacesTheTarget) {
  write_file(from_ / "a", "new");
  write_file(from_ / "b", "old and longer");
  copy_file_keeping_allocation(from_ / "a", from_ / "b");
  EXPECT_EQ(read_file(from_ / "b"), "new");
}

}  // namespace
}  // namespace instar::diff
