#include "ui/strings.h"

#include <atomic>

namespace exam::ui {
namespace {
std::atomic<Lang> g_lang{Lang::kZh};
}

Lang CurrentLang() { return g_lang.load(std::memory_order_relaxed); }
void SetLang(Lang lang) { g_lang.store(lang, std::memory_order_relaxed); }

std::string Label(const Text& text, const char* id) {
  std::string label = Tr(text);
  label += "###";
  label += id;
  return label;
}

std::string_view StageName(core::Stage stage) {
  return CurrentLang() == Lang::kZh ? core::StageNameZh(stage) : core::StageNameEn(stage);
}

std::string_view OutcomeName(core::Outcome outcome) {
  return CurrentLang() == Lang::kZh ? core::OutcomeNameZh(outcome) : core::OutcomeNameEn(outcome);
}

void ForEachUiString(const std::function<void(const char*)>& visit) {
#define EXAM_UI_STRING_VISIT(id, zh, en) \
  visit(zh);                             \
  visit(en);
  EXAM_UI_STRINGS(EXAM_UI_STRING_VISIT)
  EXAM_UI_STRINGS_APPEALS(EXAM_UI_STRING_VISIT)
  EXAM_UI_STRINGS_HELP(EXAM_UI_STRING_VISIT)
  EXAM_UI_STRINGS_LIVE(EXAM_UI_STRING_VISIT)
  EXAM_UI_STRINGS_REVIEW(EXAM_UI_STRING_VISIT)
#undef EXAM_UI_STRING_VISIT
  for (int s = 0; s <= core::kStageCount; ++s) {
    visit(core::StageNameZh(static_cast<core::Stage>(s)).data());
    visit(core::StageNameEn(static_cast<core::Stage>(s)).data());
  }
  for (int o = 0; o <= 6; ++o) {
    visit(core::OutcomeNameZh(static_cast<core::Outcome>(o)).data());
    visit(core::OutcomeNameEn(static_cast<core::Outcome>(o)).data());
  }
}

}  // namespace exam::ui
