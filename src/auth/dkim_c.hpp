#pragma once
// libopendkim's header for C++: it is C99 and spells bool "_Bool", which C++ does not have.
// NOLINTBEGIN(bugprone-reserved-identifier)
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool
// NOLINTEND(bugprone-reserved-identifier)
