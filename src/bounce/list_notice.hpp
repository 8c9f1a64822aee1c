#pragma once
// A mailing list manager's refusal of our post (fml, GNU Mailman, Sympa, ezmlm-idx, mlmmj): the list
// refused our post, so the list address is the one that failed, and never a dead mailbox.
#include "bounce/mime_view.hpp"
#include "safetynet/bounce/bounce.hpp"

namespace safetynet::bounce {

// False when the message is not such a refusal, or names no list address to give it to.
bool readListRefusal(const MimeView& v, Classification& out);

}  // namespace safetynet::bounce
