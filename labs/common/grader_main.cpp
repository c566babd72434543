// labs/common/grader_main.cpp — the one main() of every lab's grader.
//
// Catch2 runs the checks; this file adds what grading needs on top:
//   - every TEST_CASE is a check, its points in a tag: "[points=20]";
//   - LAB_CHECKS_LIST=FILE: write "points<TAB>name" for every check, run none
//     (scripts/grade.sh learns the full list and the maximum this way, so a
//     check the grader never reached still counts, as failed);
//   - LAB_CHECKS_FILE=FILE: while the checks run, append
//     "points<TAB>passed<TAB>name<TAB>why" for each one, "why" being the first
//     failed assertion with its INFO messages, on one line.
// Any reporter can run beside it (scripts/grade.sh uses -r junit -o junit.xml).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

namespace {

int points_of(const Catch::TestCaseInfo& info) {
  for (const auto& tag : info.tags)
    if (tag.rfind("points=", 0) == 0) return std::atoi(tag.c_str() + 7);
  return 0;
}

// Tabs and line breaks would break the TSV; long reasons are cut.
std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  if (s.size() > 400) s = s.substr(0, 397) + "...";
  return s;
}

class PointsListener : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;

  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    why_.clear();
    TestEventListenerBase::testCaseStarting(info);
  }

  bool assertionEnded(const Catch::AssertionStats& stats) override {
    const auto& result = stats.assertionResult;
    if (result.isOk() || !why_.empty()) return true;
    // The failed expression, then the INFO messages, the innermost first.
    if (result.hasExpression())
      why_ += result.getExpressionInMacro() + " with " + result.getExpandedExpression();
    if (result.hasMessage()) why_ += (result.hasExpression() ? ": " : "") + result.getMessage();
    for (auto it = stats.infoMessages.rbegin(); it != stats.infoMessages.rend(); ++it)
      why_ += " | " + it->message;
    return true;
  }

  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    if (const char* file = std::getenv("LAB_CHECKS_FILE")) {
      std::ofstream out(file, std::ios::app);
      out << points_of(stats.testInfo) << '\t' << (stats.totals.assertions.failed == 0 ? 1 : 0)
          << '\t' << one_line(stats.testInfo.name) << '\t' << one_line(why_) << '\n';
    }
    TestEventListenerBase::testCaseEnded(stats);
  }

 private:
  std::string why_;
};

}  // namespace

CATCH_REGISTER_LISTENER(PointsListener)

int main(int argc, char* argv[]) {
  Catch::Session session;
  if (int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  if (const char* file = std::getenv("LAB_CHECKS_LIST")) {
    std::ofstream out(file, std::ios::trunc);
    for (const auto& test : Catch::getAllTestCasesSorted(session.config()))
      out << points_of(test) << '\t' << one_line(test.name) << '\n';
    return out ? 0 : 1;
  }
  return session.run();
}
