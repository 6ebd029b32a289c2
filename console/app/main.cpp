// exam-console: the staff console for online video exams.
#include <cstdio>
#include <string>

#include "app/console_app.h"
#include "app/options.h"

int main(int argc, char** argv) {
  exam::app::Options options;
  std::string error;
  switch (exam::app::ParseOptions(argc, argv, &options, &error)) {
    case exam::app::ParseResult::kHelp:
      std::fputs(exam::app::Usage(), stdout);
      return 0;
    case exam::app::ParseResult::kError:
      std::fprintf(stderr, "exam-console: %s\n\n%s", error.c_str(), exam::app::Usage());
      return 2;
    case exam::app::ParseResult::kRun:
      break;
  }
  return exam::app::RunConsole(options);
}
