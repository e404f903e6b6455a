#pragma once

// Names of enum values, declared once beside each enum. An enum E opts in
// with a function found by argument-dependent lookup:
//
//   inline constexpr common::enum_name<norm_kind> norm_kind_names[] = {
//       {norm_kind::batchnorm, "batchnorm"}, ...};
//   constexpr std::span<const common::enum_name<norm_kind>> names_of(norm_kind) { return norm_kind_names; }
//
// and then name_of(v), from_name<E>(text) and name_list<E>() work for it:
// configuration parsing, the resolved configuration, `murmur list` and error
// messages all read the same table.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace murmur::common {

template <class E>
struct enum_name {
  E value;
  std::string_view name;
};

template <class E>
concept named_enum = requires(E e) {
  { names_of(e) } -> std::convertible_to<std::span<const enum_name<E>>>;
};

// "?" for a value the table does not list (a programmer error).
template <named_enum E>
std::string_view name_of(E value) {
  for (const auto& n : names_of(E{}))
    if (n.value == value) return n.name;
  return "?";
}

template <named_enum E>
std::optional<E> from_name(std::string_view name) {
  for (const auto& n : names_of(E{}))
    if (n.name == name) return n.value;
  return std::nullopt;
}

template <named_enum E>
std::vector<std::string> names_list() {
  std::vector<std::string> out;
  for (const auto& n : names_of(E{})) out.emplace_back(n.name);
  return out;
}

// "a, b, c" (or joined by `sep`).
inline std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

}  // namespace murmur::common
