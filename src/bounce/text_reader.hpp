#pragma once
// The human text of MTAs that send no delivery-status report.
#include "bounce/mime_view.hpp"
#include "safetynet/bounce/bounce.hpp"

namespace safetynet::bounce {

// False when the message does not look like a bounce or names no failed recipient.
bool readText(const MimeView& v, Classification& out);

}  // namespace safetynet::bounce
