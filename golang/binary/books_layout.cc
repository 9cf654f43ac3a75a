#include "golang/binary/books_layout.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "golang/binary/dwarf_layout.h"

namespace gspy {

const std::vector<BooksFieldName>& BooksFieldNames() {
  static const auto* names = new std::vector<BooksFieldName>{
#define GSPY_BOOKS_NAME(field, type, member) {#field, type, member},
      GSPY_BOOKS_FIELDS(GSPY_BOOKS_NAME)
#undef GSPY_BOOKS_NAME
  };
  return *names;
}

std::vector<int32_t*> BooksFieldPointers(BooksLayout* l) {
  return {
#define GSPY_BOOKS_POINTER(field, type, member) &l->field,
      GSPY_BOOKS_FIELDS(GSPY_BOOKS_POINTER)
#undef GSPY_BOOKS_POINTER
  };
}

std::vector<int32_t> BooksFieldValues(const BooksLayout& l) {
  return {
#define GSPY_BOOKS_VALUE(field, type, member) l.field,
      GSPY_BOOKS_FIELDS(GSPY_BOOKS_VALUE)
#undef GSPY_BOOKS_VALUE
  };
}

std::optional<BooksLayout> BuiltinBooksLayout(int minor) {
  for (const BooksLayoutRow& r : BuiltinBooksLayoutTable()) {
    if (r.minor == minor) return r.layout;
  }
  return std::nullopt;
}

absl::StatusOr<BooksLayout> BooksLayoutFromDwarf(std::string_view elf_bytes) {
  return BooksLayoutFromDwarf(*gobinary_internal::FileImage::View(elf_bytes));
}

absl::StatusOr<BooksLayout> BooksLayoutFromDwarf(
    const gobinary_internal::FileImage& image) {
  std::vector<std::string> types;
  for (const BooksFieldName& n : BooksFieldNames()) {
    std::string t(n.dwarf_struct);
    if (std::find(types.begin(), types.end(), t) == types.end()) {
      types.push_back(std::move(t));
    }
  }
  auto structs = StructsFromDwarf(image, types);
  if (!structs.ok()) return structs.status();
  for (const char* required :
       {"runtime.mstats", "runtime.schedt", "runtime.gcControllerState",
        "runtime.timeHistogram", "runtime.m"}) {
    if (!structs->contains(required)) {
      return absl::NotFoundError(std::string("DWARF lacks ") + required);
    }
  }
  BooksLayout l;
  std::vector<int32_t*> fields = BooksFieldPointers(&l);
  const std::vector<BooksFieldName>& names = BooksFieldNames();
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = structs->find(std::string(names[i].dwarf_struct));
    if (it == structs->end()) continue;  // runtime.mLockProfile before 1.22
    if (names[i].dwarf_member.empty()) {
      *fields[i] = it->second.size;
      continue;
    }
    auto m = it->second.members.find(std::string(names[i].dwarf_member));
    if (m != it->second.members.end()) *fields[i] = m->second;
  }
  return l;
}

}  // namespace gspy
