/* braid — export macros and version.  Part of the stable C ABI. */
#ifndef BRAID_EXPORT_H
#define BRAID_EXPORT_H

#if defined(_WIN32)
#  if defined(BRAID_BUILDING)
#    define BRAID_API __declspec(dllexport)
#  else
#    define BRAID_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define BRAID_API __attribute__((visibility("default")))
#else
#  define BRAID_API
#endif

#ifdef __cplusplus
#  define BRAID_EXTERN_C_BEGIN extern "C" {
#  define BRAID_EXTERN_C_END }
#  define BRAID_NOEXCEPT noexcept
#else
#  define BRAID_EXTERN_C_BEGIN
#  define BRAID_EXTERN_C_END
#  define BRAID_NOEXCEPT
#endif

#define BRAID_VERSION_MAJOR 0
#define BRAID_VERSION_MINOR 1
#define BRAID_VERSION_PATCH 0
/* One integer that compares: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define BRAID_VERSION_NUMBER \
    (BRAID_VERSION_MAJOR * 10000 + BRAID_VERSION_MINOR * 100 + BRAID_VERSION_PATCH)
#define BRAID_VERSION_STRING "0.1.0"

#endif /* BRAID_EXPORT_H */
