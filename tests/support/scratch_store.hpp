#pragma once
// A test fixture with a SQLite store of its own in a scratch directory, named after the test
// (unique per test and process), removed after it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "safetynet/store/store.hpp"

namespace safetynet::testing {

class ScratchStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sn-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = openSqliteStore(dir_.string());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  StorePtr store_;
};

}  // namespace safetynet::testing
