#include <braid/error.h>

extern "C" {

BRAID_API const char* braid_strerror(int code) {
    switch (code) {
#define BRAID_STRERROR_CASE_(name, value, text) \
    case value: return text;
        BRAID_ERROR_TABLE(BRAID_STRERROR_CASE_)
#undef BRAID_STRERROR_CASE_
        case BRAID_PENDING: return "pending (not ready yet)";
        default: return "unknown error";
    }
}

BRAID_API const char* braid_err_name(int code) {
    switch (code) {
#define BRAID_ERRNAME_CASE_(name, value, text) \
    case value: return #name;
        BRAID_ERROR_TABLE(BRAID_ERRNAME_CASE_)
#undef BRAID_ERRNAME_CASE_
        case BRAID_PENDING: return "PENDING";
        default: return "UNKNOWN";
    }
}

}  // extern "C"
