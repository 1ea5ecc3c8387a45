#include "common/base/log.h"

#include <gtest/gtest.h>

#include <regex>

namespace ck::log {
namespace {

TEST(LogTest, TextLineHasKlogHeaderQuotedMessageAndPairs) {
  std::vector<Field> fields = {internal::MakeField("pod", "default/web-1"),
                               internal::MakeField("status", "ready"),
                               internal::MakeField("restarts", 3), internal::MakeField("ok", true)};
  std::string line = FormatLine(Format::kText, Severity::kInfo, 0, "/x/y/pod_worker.cc", 79,
                                "Pod status updated", fields);
  // I1127 06:36:29.123456   4242 pod_worker.cc:79] "Pod status updated" pod="default/web-1" ...
  std::regex re(R"(^I\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ pod_worker\.cc:79\] "Pod status updated" pod="default/web-1" status="ready" restarts=3 ok=true$)");
  EXPECT_TRUE(std::regex_match(line, re)) << line;
  // The thread id field is right-aligned in 7 columns, as klog pads it.
  EXPECT_EQ(line.find(' ', 22), 22u) << line;
}

TEST(LogTest, SeverityLetters) {
  EXPECT_EQ(FormatLine(Format::kText, Severity::kWarning, 0, "a.cc", 1, "m", {})[0], 'W');
  EXPECT_EQ(FormatLine(Format::kText, Severity::kError, 0, "a.cc", 1, "m", {})[0], 'E');
}

TEST(LogTest, MessageIsEscaped) {
  std::string line = FormatLine(Format::kText, Severity::kInfo, 0, "a.cc", 1, "say \"hi\"\n",
                                {internal::MakeField("k", "v\"w")});
  EXPECT_NE(line.find(R"("say \"hi\"\n" k="v\"w")"), std::string::npos) << line;
}

TEST(LogTest, JsonLine) {
  std::string line = FormatLine(Format::kJson, Severity::kInfo, 2, "dir/server.cc", 12, "Request",
                                {internal::MakeField("code", 200), internal::MakeField("verb", "GET")});
  std::regex re(R"(^\{"ts":\d+\.\d{6},"caller":"server\.cc:12","msg":"Request","v":2,"code":200,"verb":"GET"\}$)");
  EXPECT_TRUE(std::regex_match(line, re)) << line;
  std::string err = FormatLine(Format::kJson, Severity::kError, 0, "a.cc", 1, "Failed",
                               {internal::MakeField("err", "boom")});
  EXPECT_EQ(err.find("\"v\":"), std::string::npos) << err;
  EXPECT_NE(err.find(R"("err":"boom")"), std::string::npos);
}

TEST(LogTest, VerbosityGatesVlog) {
  std::string captured;
  CaptureForTest(&captured);
  SetVerbosity(1);
  CK_VLOG(2, "hidden");
  CK_VLOG(1, "shown", "n", 1);
  CK_LOG_INFO("always");
  SetVerbosity(0);
  CaptureForTest(nullptr);
  EXPECT_EQ(captured.find("hidden"), std::string::npos);
  EXPECT_NE(captured.find("\"shown\" n=1"), std::string::npos) << captured;
  EXPECT_NE(captured.find("\"always\""), std::string::npos);
}

TEST(LogTest, ParseFormat) {
  Format f;
  EXPECT_TRUE(ParseFormat("json", &f));
  EXPECT_EQ(f, Format::kJson);
  EXPECT_FALSE(ParseFormat("xml", &f));
}

}  // namespace
}  // namespace ck::log
