//===- Status.cpp - Status codes of the runtime C ABI ---------------------===//
//
// Names of tvc_status_t values.
//
//===----------------------------------------------------------------------===//

#include "runtime/api/tvc_runtime.h"

extern "C" const char *tvc_status_string(tvc_status_t status) {
  switch (status) {
  case TVC_OK:
    return "ok";
  case TVC_INVALID_ARGUMENT:
    return "invalid argument";
  case TVC_NOT_FOUND:
    return "not found";
  case TVC_OUT_OF_MEMORY:
    return "out of memory";
  case TVC_UNAVAILABLE:
    return "unavailable";
  case TVC_INTERNAL:
    return "internal error";
  }
  return "unknown status";
}
